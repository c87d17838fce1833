package ussdsvc

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// fakeLanes is the scheduler's session pause.
type fakeLanes struct {
	mu     sync.Mutex
	paused map[string]bool
}

func (l *fakeLanes) SetUsable(id string, usable bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if usable {
		delete(l.paused, id)
	} else {
		l.paused[id] = true
	}
}

func (l *fakeLanes) InSession() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	for id := range l.paused {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// fakeModems records which modems were asked for work; the work itself
// (AT+CUSD=2) is the gsm package's and is not run.
type fakeModems struct {
	mu    sync.Mutex
	asked []string
}

func (m *fakeModems) Do(_ context.Context, id string, _ func(context.Context, *gsm.Modem) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asked = append(m.asked, id)
	return nil
}
func (m *fakeModems) Snapshot(string) (api.Modem, bool) { return api.Modem{}, false }
func (m *fakeModems) Snapshots() []api.Modem            { return nil }

// One look of the reaper closes the API session past its cap (on the modem
// too), keeps the lane of a live one paused, resumes a lane paused with no
// session behind it, and leaves balance checks alone.
func TestReaperDerivesPausesFromTheStore(t *testing.T) {
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st, err := store.Open(t.TempDir(), store.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	claim := func(id, modem, purpose string, expires time.Time, open bool) {
		t.Helper()
		if _, err := st.USSD.ClaimUSSD(ctx, store.USSDSession{ID: id, ModemID: modem, Purpose: purpose, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
		if open {
			if _, err := st.USSD.MoveUSSD(ctx, id, store.USSDRunning, store.USSDOpen, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	claim("expired", "m1", purposeAPI, now.Add(-time.Second), true)
	claim("live", "m2", purposeAPI, now.Add(time.Minute), true)
	claim("balance", "m4", purposeBalance, now.Add(-time.Second), false)
	lanes := &fakeLanes{paused: map[string]bool{"m1": true, "m3": true}}
	modems := &fakeModems{}
	s, err := New(Deps{Modems: modems, Lanes: lanes, Sessions: st.USSD}, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}

	if again := s.sessions.lookAtUSSD(ctx); !again {
		t.Error("a live API session must be looked at again")
	}
	u, err := st.USSD.GetUSSDSession(ctx, "expired")
	if err != nil {
		t.Fatal(err)
	}
	if u.State != store.USSDClosed || u.CloseReason != "timeout" {
		t.Errorf("expired session is %s (%q), want closed (timeout)", u.State, u.CloseReason)
	}
	if !slices.Equal(modems.asked, []string{"m1"}) {
		t.Errorf("modems asked to end a session: %v, want [m1]", modems.asked)
	}
	if got := lanes.InSession(); !slices.Equal(got, []string{"m2"}) {
		t.Errorf("paused lanes %v, want [m2]", got)
	}
	if u, _ := st.USSD.GetUSSDSession(ctx, "balance"); u.State != store.USSDRunning {
		t.Errorf("the balance check's session is %s; the reaper is only for API sessions", u.State)
	}
}
