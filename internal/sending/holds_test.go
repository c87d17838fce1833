package sending

import (
	"slices"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/store"
)

func TestHoldSaysWhyAndUntilWhen(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	pinned := func(f func(*store.Message)) func() *store.Message {
		return func() *store.Message { m := msg("held", t0); f(m); return m }
	}
	tests := []struct {
		name      string
		lanes     func(s *Scheduler)
		veto      bool // the eligibility check refuses every SIM
		msg       func() *store.Message
		wantWhy   string
		wantUntil time.Time
	}{
		{"no modem at all", func(*Scheduler) {}, false, pinned(func(*store.Message) {}), HoldNoReadyModem, time.Time{}},
		{"pinned modem not ready", oneLane(SendLimits{}, nil), false,
			pinned(func(m *store.Message) { m.PinModem = "mX" }), HoldPinnedModemUnavailable, time.Time{}},
		{"pinned modem, no modem at all", func(*Scheduler) {}, false,
			pinned(func(m *store.Message) { m.PinModem = "mX" }), HoldPinnedModemUnavailable, time.Time{}},
		{"no SIM of the pinned operator", oneLane(SendLimits{}, nil), false,
			pinned(func(m *store.Message) { m.PinOperator = "25020" }), HoldOperatorPinned, time.Time{}},
		{"bound SIM gone", oneLane(SendLimits{}, nil), false,
			pinned(func(m *store.Message) { m.ICCID = "iccGone" }), HoldSIMUnavailable, time.Time{}},
		{"per-minute limit", oneLane(SendLimits{PerMinute: 2}, []time.Time{t0.Add(-50 * time.Second), t0.Add(-10 * time.Second)}), false,
			pinned(func(*store.Message) {}), HoldSIMLimit, t0.Add(10 * time.Second)},
		{"per-day limit of a long message", oneLane(SendLimits{PerDay: 3}, []time.Time{t0.Add(-23 * time.Hour), t0.Add(-time.Hour)}), false,
			pinned(func(m *store.Message) { m.Parts = 2 }), HoldSIMLimit, t0.Add(time.Hour)},
		{"modem busy", func(s *Scheduler) {
			oneLane(SendLimits{}, nil)(s)
			s.Enqueue(msg("first", t0.Add(-time.Second)))
		}, false, pinned(func(*store.Message) {}), HoldModemBusy, time.Time{}},
		{"customer has an open confirmation", oneLane(SendLimits{}, nil), true,
			pinned(func(*store.Message) {}), HoldConfirmationPending, time.Time{}},
		{"USSD session", pausedLane("session"), false, pinned(func(*store.Message) {}), HoldUSSDSession, time.Time{}},
		{"modem degraded", pausedLane("degraded"), false, pinned(func(*store.Message) {}), HoldModemDegraded, time.Time{}},
		{"SIM suspect", pausedLane("suspect"), false, pinned(func(*store.Message) {}), HoldSIMSuspect, time.Time{}},
		{"paused for a reason without a name", pausedLane("maintenance"), false, pinned(func(*store.Message) {}), HoldModemPaused, time.Time{}},
		{"retry backoff", oneLane(SendLimits{}, nil), false,
			pinned(func(m *store.Message) { m.NextAttempt = t0.Add(time.Minute) }), HoldRetryBackoff, t0.Add(time.Minute)},
		{"of two SIMs, the one that frees first", func(s *Scheduler) {
			s.AddLane("mA", "iccA", "25001", SendLimits{}, nil)
			s.Pause("mA", "suspect")
			s.AddLane("mB", "iccB", "25001", SendLimits{PerHour: 1}, []time.Time{t0.Add(-30 * time.Minute)})
		}, false, pinned(func(*store.Message) {}), HoldSIMLimit, t0.Add(30 * time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			asked := 0
			eligible := func(*store.Message, string) bool { asked++; return !tc.veto }
			s := NewScheduler((&fakeClock{t0}).now, eligible, func(string) {})
			tc.lanes(s)
			m := tc.msg()
			s.Enqueue(m)
			s.dispatch()
			before := asked
			h, ok := s.Holds(m.ID)[m.ID]
			if asked != before {
				t.Fatal("Holds asked the veto: a store lookup in an HTTP handler")
			}
			if !ok {
				t.Fatal("no hold for a message that did not go")
			}
			if h.Reason != tc.wantWhy || !h.Until.Equal(tc.wantUntil) || h.Detail == "" {
				t.Fatalf("hold %+v, want %s until %v", h, tc.wantWhy, tc.wantUntil)
			}
		})
	}
}

func oneLane(limits SendLimits, sent []time.Time) func(*Scheduler) {
	return func(s *Scheduler) { s.AddLane("mA", "iccA", "25001", limits, sent) }
}

func pausedLane(reason string) func(*Scheduler) {
	return func(s *Scheduler) {
		s.AddLane("mA", "iccA", "25001", SendLimits{}, nil)
		s.Pause("mA", reason)
	}
}

func TestHoldClearsOnceTheMessageGoes(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t0}
	s := NewScheduler(clock.now, nil, func(string) {})
	jobs := s.AddLane("mA", "iccA", "25001", SendLimits{PerMinute: 1}, []time.Time{t0.Add(-30 * time.Second)})
	s.Enqueue(msg("a", t0))
	s.dispatch()
	if h, ok := s.Holds("a")["a"]; !ok || h.Reason != HoldSIMLimit {
		t.Fatalf("hold %+v %v, want sim_limit", h, ok)
	}
	clock.t = t0.Add(30 * time.Second)
	s.dispatch()
	if take(jobs) == nil {
		t.Fatal("not sent once the window freed")
	}
	if h, ok := s.Holds("a")["a"]; ok {
		t.Fatalf("a message handed to its modem still shows hold %+v", h)
	}
}

// A held message must expire at its expires_at, not whenever a limit or
// some other event next wakes the loop.
func TestHeldMessageExpiresOnTime(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		lanes func(*Scheduler)
	}{
		{"held by an hour's limit", oneLane(SendLimits{PerHour: 1}, []time.Time{t0.Add(-time.Minute)})},
		{"no modem at all", func(*Scheduler) {}},
		{"modem busy", func(s *Scheduler) {
			oneLane(SendLimits{}, nil)(s)
			s.Enqueue(msg("long one", t0.Add(-time.Second)))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t0}
			var expired []string
			s := NewScheduler(clock.now, nil, func(id string) { expired = append(expired, id) })
			tc.lanes(s)
			m := msg("ttl1m", t0)
			m.ExpiresAt = t0.Add(time.Minute)
			s.Enqueue(m)
			for i := 0; !slices.Contains(expired, m.ID); i++ {
				if i == 10 {
					t.Fatalf("not expired after %d wake-ups; clock at %v", i, clock.t)
				}
				wait := s.dispatch()
				if !slices.Contains(expired, m.ID) {
					clock.t = clock.t.Add(wait) // the Run loop's timer firing
				}
			}
			if late := clock.t.Sub(m.ExpiresAt); late < 0 || late > time.Second {
				t.Fatalf("expired at %v, %s after expires_at", clock.t, late)
			}
		})
	}
}

func TestConfirmationsGoAheadOfPlainMessages(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := NewScheduler((&fakeClock{t0}).now, nil, func(string) {})
	jobs := s.AddLane("mA", "iccA", "25001", SendLimits{}, nil)
	for i, id := range []string{"plain1", "plain2", "plain3"} {
		s.Enqueue(msg(id, t0.Add(time.Duration(i)*time.Second)))
	}
	s.dispatch()
	if m := take(jobs); m == nil || m.ID != "plain1" {
		t.Fatalf("first job %v, want plain1", m)
	}
	c := msg("confirmation", t0.Add(time.Minute))
	c.Reference = "confirmation:pay-1"
	if !store.IsConfirmationMessage(c) {
		t.Fatal("test message does not look like a confirmation's SMS")
	}
	s.Enqueue(c)
	var order []string
	for range 3 {
		s.Done("mA", nil, nil)
		s.dispatch()
		m := take(jobs)
		if m == nil {
			t.Fatal("no job handed out")
		}
		order = append(order, m.ID)
	}
	if want := []string{"confirmation", "plain2", "plain3"}; !slices.Equal(order, want) {
		t.Fatalf("after plain1 the modem got %v, want %v", order, want)
	}
}
