package confirm

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// fakeStore answers the deadline and veto reads from its fields and records
// the confirmations ended; the methods it does not override are not used
// by the code under test (a call panics on the nil interface).
type fakeStore struct {
	Store
	due      []*store.Confirmation
	pending  bool
	err      error
	asked    []string // phone/iccid/except of PendingOnSIM
	expired  []string
	failed   []string
	conflict map[string]bool // ids another writer decided first
}

func (f *fakeStore) ConfirmationsDue(context.Context, time.Time) ([]*store.Confirmation, error) {
	return f.due, f.err
}

func (f *fakeStore) ExpireConfirmation(_ context.Context, id string) (*store.Confirmation, error) {
	if f.conflict[id] {
		return nil, store.ErrConflict
	}
	f.expired = append(f.expired, id)
	return nil, nil
}

func (f *fakeStore) FailConfirmation(_ context.Context, id, _ string) (*store.Confirmation, error) {
	f.failed = append(f.failed, id)
	return nil, nil
}

func (f *fakeStore) PendingOnSIM(_ context.Context, phone, iccid, except string) (bool, error) {
	f.asked = append(f.asked, phone+"/"+iccid+"/"+except)
	return f.pending, f.err
}

type modems []api.Modem

func (m modems) Modems() []api.Modem { return m }

// modemView shows modems and the sweeps of their SIMs' storage, and
// records the sweeps asked for.
type modemView struct {
	modems
	swept map[string]time.Time // ICCID: when its last complete sweep began
	asked []sweepAsk
}

type sweepAsk struct {
	iccid string
	from  time.Time
}

func (v *modemView) SweptSince(iccid string, t time.Time) bool {
	at, ok := v.swept[iccid]
	return ok && !at.Before(t)
}

func (v *modemView) Sweep(iccid string, t time.Time) { v.asked = append(v.asked, sweepAsk{iccid, t}) }

func TestDeadlineEndsOnlyWhatTheRuleEnds(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	rules := config.Confirmations{ExpiryGrace: time.Minute, SIMLostAfter: time.Hour}
	due := func(id string, state payment.State, iccid string, past time.Duration) *store.Confirmation {
		return &store.Confirmation{ID: id, State: state, ICCID: iccid, ExpiresAt: now.Add(-past)}
	}
	readySince := func(iccid string, since time.Time) api.Modem {
		return api.Modem{ICCID: iccid, State: api.ModemReady, Since: since}
	}
	// A sweep of sim1 that began as the grace of a confirmation due two
	// minutes ago ended, and one that began a second before.
	sweptAtGrace := map[string]time.Time{"sim1": now.Add(-time.Minute)}
	sweptInGrace := map[string]time.Time{"sim1": now.Add(-time.Minute - time.Second)}
	askedAtGrace := []sweepAsk{{"sim1", now.Add(-time.Minute)}}
	cases := []struct {
		name                          string
		due                           []*store.Confirmation
		modems                        modems
		swept                         map[string]time.Time
		conflict                      map[string]bool
		expired, failed               []string
		asked                         []sweepAsk
		wantChanged, wantStillWaiting bool
	}{
		{name: "nothing due"},
		{name: "sent, its SIM read through the grace", due: []*store.Confirmation{due("a", payment.Sent, "sim1", 2*time.Minute)},
			modems: modems{readySince("sim1", now.Add(-time.Hour))}, swept: sweptAtGrace, expired: []string{"a"}, wantChanged: true},
		{name: "sent, its modem ready through the grace but its SIM swept only within it", due: []*store.Confirmation{due("a", payment.Sent, "sim1", 2*time.Minute)},
			modems: modems{readySince("sim1", now.Add(-time.Hour))}, swept: sweptInGrace, asked: askedAtGrace, wantStillWaiting: true},
		{name: "sent, its modem ready through the grace, its SIM never swept", due: []*store.Confirmation{due("a", payment.Sent, "sim1", 2*time.Minute)},
			modems: modems{readySince("sim1", now.Add(-time.Hour))}, asked: askedAtGrace, wantStillWaiting: true},
		{name: "sent, its SIM swept but its modem ready only within the grace", due: []*store.Confirmation{due("a", payment.Sent, "sim1", 2*time.Minute)},
			modems: modems{readySince("sim1", now.Add(-30*time.Second))}, swept: sweptAtGrace, wantStillWaiting: true},
		{name: "sent, its SIM not swept until sim_lost_after", due: []*store.Confirmation{due("a", payment.Sent, "sim1", 2*time.Hour)},
			modems: modems{readySince("sim1", now.Add(-3*time.Hour))}, asked: []sweepAsk{{"sim1", now.Add(-2*time.Hour + time.Minute)}},
			failed: []string{"a"}, wantChanged: true},
		{name: "sent, its modem ready only since within the grace", due: []*store.Confirmation{due("a", payment.Sent, "sim1", 2*time.Minute)},
			modems: modems{readySince("sim1", now.Add(-30*time.Second))}, wantStillWaiting: true},
		{name: "sent, still in its grace", due: []*store.Confirmation{due("a", payment.Sent, "sim1", 30*time.Second)},
			modems: modems{readySince("sim1", now.Add(-time.Hour))}, wantStillWaiting: true},
		{name: "sent, its SIM out past sim_lost_after", due: []*store.Confirmation{due("a", payment.Sent, "sim1", 2*time.Hour)},
			failed: []string{"a"}, wantChanged: true},
		{name: "sent, its SIM in another modem that is not ready", due: []*store.Confirmation{due("a", payment.Sent, "sim1", 2*time.Minute)},
			modems: modems{{ICCID: "sim1", State: api.ModemDegraded, Since: now.Add(-time.Hour)}}, wantStillWaiting: true},
		{name: "queued: the scheduler expires its SMS", due: []*store.Confirmation{due("a", payment.Queued, "", time.Second)},
			wantChanged: true, wantStillWaiting: true},
		{name: "decided by a reply meanwhile", due: []*store.Confirmation{due("a", payment.Sent, "sim1", 2*time.Minute)},
			modems: modems{readySince("sim1", now.Add(-time.Hour))}, swept: sweptAtGrace, conflict: map[string]bool{"a": true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{due: tc.due, conflict: tc.conflict}
			view := &modemView{modems: tc.modems, swept: tc.swept}
			s, err := New(st, nil, nil, view, Options{Config: rules, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			changed, waiting := s.expire(context.Background())
			if changed != tc.wantChanged || waiting != tc.wantStillWaiting {
				t.Errorf("changed %v waiting %v, want %v %v", changed, waiting, tc.wantChanged, tc.wantStillWaiting)
			}
			if !slices.Equal(st.expired, tc.expired) || !slices.Equal(st.failed, tc.failed) {
				t.Errorf("expired %v failed %v, want %v %v", st.expired, st.failed, tc.expired, tc.failed)
			}
			if !slices.Equal(view.asked, tc.asked) {
				t.Errorf("sweeps asked for %v, want %v", view.asked, tc.asked)
			}
		})
	}
}

// A store that cannot list the due ones leaves them for the next look.
func TestDeadlineRetriesWhenTheStoreFails(t *testing.T) {
	s, err := New(&fakeStore{err: errors.New("disk I/O error")}, nil, nil, &modemView{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if changed, waiting := s.expire(context.Background()); changed || !waiting {
		t.Errorf("changed %v waiting %v, want false true", changed, waiting)
	}
}

func TestEligibleVetoesOnlyASecondPendingConfirmationOnTheSIM(t *testing.T) {
	plain := &store.Message{ID: "m1", To: "+79160000001", Reference: "invoice-7"}
	confirmation := &store.Message{ID: "m2", To: "+79160000001", Reference: "confirmation:pay-1"}
	if !store.IsConfirmationMessage(confirmation) || store.IsConfirmationMessage(plain) {
		t.Fatal("the test messages do not look as the store marks them")
	}
	cases := []struct {
		name    string
		m       *store.Message
		pending bool
		err     error
		want    bool
		asked   []string
	}{
		{name: "a plain message is never looked up", m: plain, pending: true, want: true},
		{name: "the customer has none pending on the SIM", m: confirmation, want: true, asked: []string{"+79160000001/sim1/m2"}},
		{name: "the customer has one pending on the SIM", m: confirmation, pending: true, want: false, asked: []string{"+79160000001/sim1/m2"}},
		{name: "the store cannot tell", m: confirmation, err: errors.New("database is locked"), want: false, asked: []string{"+79160000001/sim1/m2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{pending: tc.pending, err: tc.err}
			s, err := New(st, nil, nil, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Eligible(tc.m, "sim1"); got != tc.want {
				t.Errorf("Eligible = %v, want %v", got, tc.want)
			}
			if !slices.Equal(st.asked, tc.asked) {
				t.Errorf("store asked %v, want %v", st.asked, tc.asked)
			}
		})
	}
}
