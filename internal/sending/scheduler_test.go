package sending

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/store"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func msg(id string, created time.Time) *store.Message {
	return &store.Message{ID: id, Parts: 1, CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
}

// take returns the job a lane got from one dispatch round, or nil.
func take(ch <-chan *store.Message) *store.Message {
	select {
	case m := <-ch:
		return m
	default:
		return nil
	}
}

func TestSchedulerRouting(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		msg      func() *store.Message
		wantLane string // "" = held
	}{
		{"pinned modem", func() *store.Message { m := msg("a", t0); m.PinModem = "mB"; return m }, "mB"},
		{"pinned operator", func() *store.Message { m := msg("a", t0); m.PinOperator = "25020"; return m }, "mB"},
		{"bound SIM", func() *store.Message { m := msg("a", t0); m.ICCID = "iccA"; return m }, "mA"},
		{"operator no SIM serves waits", func() *store.Message { m := msg("a", t0); m.PinOperator = "25099"; return m }, ""},
		{"unpinned goes to least busy", func() *store.Message { return msg("a", t0) }, "mB"},
		{"backoff holds", func() *store.Message { m := msg("a", t0); m.NextAttempt = t0.Add(time.Minute); return m }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t0}
			var expired []string
			s := NewScheduler(clock.now, nil, func(id string) { expired = append(expired, id) })
			lanes := map[string]<-chan *store.Message{
				"mA": s.AddLane("mA", "iccA", "25001", SendLimits{}, []time.Time{t0.Add(-time.Minute)}),
				"mB": s.AddLane("mB", "iccB", "25020", SendLimits{}, nil),
			}
			s.Enqueue(tc.msg())
			s.dispatch()
			got := ""
			for name, ch := range lanes {
				if m := take(ch); m != nil {
					got = name
				}
			}
			if got != tc.wantLane {
				t.Fatalf("went to %q, want %q", got, tc.wantLane)
			}
			if tc.wantLane == "" && s.QueueDepth() != 1 {
				t.Fatalf("held message left the queue")
			}
		})
	}
}

func TestSchedulerHoldsMessagesUnderSendLimits(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t0}
	s := NewScheduler(clock.now, nil, func(string) {})
	jobs := s.AddLane("m", "icc", "25001", SendLimits{PerMinute: 2}, []time.Time{t0.Add(-50 * time.Second), t0.Add(-10 * time.Second)})
	s.Enqueue(msg("a", t0))
	wait := s.dispatch()
	if m := take(jobs); m != nil {
		t.Fatalf("sent %s over the per-minute limit", m.ID)
	}
	if wait != 10*time.Second {
		t.Fatalf("wake-up in %s, want 10s (when the oldest send leaves the window)", wait)
	}
	clock.t = t0.Add(10*time.Second + time.Millisecond)
	s.dispatch()
	if m := take(jobs); m == nil {
		t.Fatal("message still held after the window freed a slot")
	}
}

func TestSchedulerExpiresQueuedMessages(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t0.Add(2 * time.Hour)}
	var expired []string
	s := NewScheduler(clock.now, nil, func(id string) { expired = append(expired, id) })
	s.Enqueue(msg("old", t0))
	s.dispatch()
	if len(expired) != 1 || expired[0] != "old" || s.QueueDepth() != 0 {
		t.Fatalf("expired %v, depth %d", expired, s.QueueDepth())
	}
}

func TestSchedulerOneJobPerLaneAtATime(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t0}
	s := NewScheduler(clock.now, nil, func(string) {})
	jobs := s.AddLane("m", "icc", "25001", SendLimits{}, nil)
	s.Enqueue(msg("a", t0))
	s.Enqueue(msg("b", t0.Add(time.Second)))
	s.dispatch()
	s.dispatch()
	if m := take(jobs); m == nil || m.ID != "a" {
		t.Fatalf("first job %v, want a", m)
	}
	if m := take(jobs); m != nil {
		t.Fatalf("second job %s handed out before the lane was done", m.ID)
	}
	s.Done("m", []time.Time{t0}, nil)
	s.dispatch()
	if m := take(jobs); m == nil || m.ID != "b" {
		t.Fatalf("after Done: %v, want b", m)
	}
}

// A message queued with its parts reaches the lane as itself, so the send
// reuses it; one queued without them (the queue loaded at start-up) is kept
// as its routing fields only and reaches the lane as those, for the send to
// read the rest from the store.
func TestSchedulerKeepsOnlyWholeMessagesWhole(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t0}
	var vetoAsked []*store.Message
	s := NewScheduler(clock.now, func(m *store.Message, _ string) bool { vetoAsked = append(vetoAsked, m); return true }, func(string) {})
	jobs := s.AddLane("m", "icc", "25001", SendLimits{}, nil)

	whole := msg("whole", t0)
	whole.Text, whole.PartList = "Платёж 1", []store.Part{{Seq: 1, State: "pending"}}
	s.Enqueue(whole)
	s.dispatch()
	if m := take(jobs); m != whole {
		t.Fatalf("lane got %+v, want the message queued", m)
	}
	s.Done("m", nil, nil)

	loaded := &store.Message{ID: "loaded", To: "+79161234567", Reference: "ref", PinOperator: "25001", ICCID: "icc",
		Parts: 2, State: store.Sending, Seq: 2, Encoding: "gsm7", Attempts: 1, CreatedAt: t0.Add(time.Second),
		ExpiresAt: t0.Add(time.Hour), NextAttempt: t0.Add(-time.Minute), UpdatedAt: t0}
	s.Enqueue(loaded)
	s.dispatch()
	got := take(jobs)
	want := store.Message{ID: "loaded", To: "+79161234567", Reference: "ref", PinOperator: "25001", ICCID: "icc",
		Parts: 2, CreatedAt: t0.Add(time.Second), ExpiresAt: t0.Add(time.Hour), NextAttempt: t0.Add(-time.Minute)}
	if got == nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("lane got %+v, want %+v", got, want)
	}
	if len(vetoAsked) != 2 || vetoAsked[0] != whole || vetoAsked[1].ID != "loaded" || vetoAsked[1].To != want.To || vetoAsked[1].Reference != want.Reference {
		t.Fatalf("the veto was asked about %+v", vetoAsked)
	}
}

func TestSchedulerRunStopsWithContext(t *testing.T) {
	s := NewScheduler(time.Now, nil, func(string) {})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	cancel()
	<-done
}

func TestRemovedLaneGivesBackAJobItDidNotTake(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := NewScheduler((&fakeClock{t0}).now, nil, func(string) {})
	s.AddLane("m", "icc", "25001", SendLimits{}, nil)
	s.Enqueue(msg("a", t0))
	s.dispatch()
	if s.QueueDepth() != 0 {
		t.Fatal("message not handed to the lane")
	}
	s.RemoveLane("m")
	if s.QueueDepth() != 1 {
		t.Fatal("the job waiting in the removed lane was lost")
	}
}

func TestLoadsCountPinnedWorkAndSendsAgainstLimits(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := NewScheduler((&fakeClock{t0}).now, nil, func(string) {})
	s.AddLane("m", "icc", "25001", SendLimits{PerDay: 100}, []time.Time{t0.Add(-2 * time.Hour), t0.Add(-time.Minute)})
	s.Pause("m", "session")
	pinned := msg("a", t0)
	pinned.PinModem = "m"
	bound := msg("b", t0)
	bound.ICCID = "icc"
	s.Enqueue(pinned)
	s.Enqueue(bound)
	s.Enqueue(msg("c", t0))
	l := s.Loads()["m"]
	if l.Queued != 2 || l.SentLastHour != 1 || l.SentLastDay != 2 || l.Limits.PerDay != 100 {
		t.Fatalf("load %+v", l)
	}
}
