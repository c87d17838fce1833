package sending

import (
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/store"
)

// A USSD session's hold on a modem's lane is the session's, not the lane's:
// it pauses a lane the modem opens again under the session (after a reboot),
// one session's release does not free a lane another session holds, and it
// never lifts a pause of another kind.
func TestSessionHoldOutlivesTheLane(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		// steps run on a scheduler with lane "m" open; they may reopen it.
		steps    func(s *Scheduler) <-chan *store.Message
		wantSent bool
		wantHeld []string
	}{
		{"held lane sends nothing", func(s *Scheduler) <-chan *store.Message {
			s.HoldForSession("m", "u1")
			return nil
		}, false, []string{"u1"}},
		{"held while the lane was closed", func(s *Scheduler) <-chan *store.Message {
			s.RemoveLane("m")
			s.HoldForSession("m", "u1")
			return s.AddLane("m", "icc", "25001", SendLimits{}, nil)
		}, false, []string{"u1"}},
		{"held, then the lane closed and opened again", func(s *Scheduler) <-chan *store.Message {
			s.HoldForSession("m", "u1")
			s.RemoveLane("m")
			return s.AddLane("m", "icc", "25001", SendLimits{}, nil)
		}, false, []string{"u1"}},
		{"released after the lane opened again", func(s *Scheduler) <-chan *store.Message {
			s.HoldForSession("m", "u1")
			s.RemoveLane("m")
			jobs := s.AddLane("m", "icc", "25001", SendLimits{}, nil)
			s.ReleaseSession("u1")
			return jobs
		}, true, nil},
		{"released while the lane was closed", func(s *Scheduler) <-chan *store.Message {
			s.HoldForSession("m", "u1")
			s.RemoveLane("m")
			s.ReleaseSession("u1")
			return s.AddLane("m", "icc", "25001", SendLimits{}, nil)
		}, true, nil},
		{"a closing session does not free the next one's hold", func(s *Scheduler) <-chan *store.Message {
			s.HoldForSession("m", "u1")
			s.HoldForSession("m", "u2")
			s.ReleaseSession("u1")
			s.ReleaseSession("u1")
			return nil
		}, false, []string{"u2"}},
		{"a release does not lift a suspect SIM's pause", func(s *Scheduler) <-chan *store.Message {
			s.Pause("m", "suspect")
			s.HoldForSession("m", "u1")
			s.ReleaseSession("u1")
			return nil
		}, false, nil},
		{"releasing what holds nothing", func(s *Scheduler) <-chan *store.Message {
			s.ReleaseSession("nope")
			return nil
		}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewScheduler((&fakeClock{t0}).now, nil, func(string) {})
			jobs := s.AddLane("m", "icc", "25001", SendLimits{}, nil)
			if j := tt.steps(s); j != nil {
				jobs = j
			}
			s.Enqueue(msg("a", t0))
			s.dispatch()
			if sent := take(jobs) != nil; sent != tt.wantSent {
				t.Fatalf("sent %v, want %v", sent, tt.wantSent)
			}
			if got := s.HeldSessions(); len(got) != len(tt.wantHeld) || (len(got) == 1 && got[0] != tt.wantHeld[0]) {
				t.Fatalf("held sessions %v, want %v", got, tt.wantHeld)
			}
		})
	}
}
