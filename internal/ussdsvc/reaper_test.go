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

// fakeLanes is the scheduler's session holds.
type fakeLanes struct {
	mu   sync.Mutex
	held map[string]string // session id -> modem id
}

func (l *fakeLanes) HoldForSession(modemID, sessionID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held[sessionID] = modemID
}

func (l *fakeLanes) ReleaseSession(sessionID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.held, sessionID)
}

func (l *fakeLanes) HeldSessions() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	for id := range l.held {
		ids = append(ids, id)
	}
	return ids
}

// pausedModems lists the modems a session holds.
func (l *fakeLanes) pausedModems() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	for _, m := range l.held {
		if !slices.Contains(ids, m) {
			ids = append(ids, m)
		}
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
	lanes := &fakeLanes{held: map[string]string{"expired": "m1", "gone": "m3"}}
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
	if got := lanes.pausedModems(); !slices.Equal(got, []string{"m2"}) {
		t.Errorf("paused lanes %v, want [m2]", got)
	}
	if u, _ := st.USSD.GetUSSDSession(ctx, "balance"); u.State != store.USSDRunning {
		t.Errorf("the balance check's session is %s; the reaper is only for API sessions", u.State)
	}
}
