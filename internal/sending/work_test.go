package sending

import (
	"github.com/gsmbridge/gsmbridge/internal/config"
	"log/slog"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/internal/work"
)

// A lane that closes gives back the message it was handed and the owner did
// not take, wherever it waited; one the owner took stays with the owner.
func TestClosedLaneGivesBackWorkTheOwnerDidNotTake(t *testing.T) {
	s, _, sched := newTestSending(t)
	w := s.Work()
	lane := work.Lane{Modem: "m", SIM: store.SIM{ICCID: "8970", PLMN: "25001"}, Log: slog.New(slog.DiscardHandler)}
	now := time.Now()

	if _, err := w.Open(t.Context(), lane); err != nil {
		t.Fatal(err)
	}
	sched.Enqueue(&store.Message{ID: "untaken", Parts: 1, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	sched.Dispatch()
	if sched.QueueDepth() != 0 {
		t.Fatal("the message was not handed to the lane")
	}
	w.Close("m")
	if sched.QueueDepth() != 1 {
		t.Fatalf("queue depth %d after Close, want the untaken message back", sched.QueueDepth())
	}

	jobs, err := w.Open(t.Context(), lane)
	if err != nil {
		t.Fatal(err)
	}
	sched.Dispatch()
	job := <-jobs
	if j, ok := job.(*sendJob); !ok || j.m.ID != "untaken" {
		t.Fatalf("job %#v, want the message given back", job)
	}
	w.Close("m")
	if sched.QueueDepth() != 0 {
		t.Fatalf("queue depth %d after Close, want the taken job left with the owner", sched.QueueDepth())
	}
}

type perMinute int

func (n perMinute) SendLimits(string, string) SendLimits { return SendLimits{PerMinute: int(n)} }

// A SIM's sends stay counted when its lane closes and opens again (the
// modem rebooted, or came back on another port): the store need not have
// them yet, as the last part's record rides a later commit and one the
// failing store refused waits for it to recover. Before, the new lane
// counted only what the store had committed, and the SIM went over its
// operator's limit.
func TestASIMsSendsStayCountedWhenItsLaneOpensAgain(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	sched := NewScheduler(clock.now, nil, func(string) {})
	// fakeSIMs' store has committed no send.
	s, err := New(&fakeMessages{byID: map[string]*store.Message{}}, fakeSIMs{}, &fakeModems{}, sched,
		Options{Config: config.Default().Send, Limits: perMinute(3), Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	w := s.Work()
	sim := store.SIM{ICCID: "8970", PLMN: "25001"}
	if _, err := w.Open(t.Context(), work.Lane{Modem: "m", SIM: sim, Log: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	// The owner's jobs sent three parts, the last a second ago.
	for i := 3; i >= 1; i-- {
		sched.Done("m", []time.Time{clock.t.Add(-time.Duration(i) * time.Second)}, nil)
	}
	w.Close("m")
	sched.Enqueue(&store.Message{ID: "next", Parts: 1, CreatedAt: clock.t, ExpiresAt: clock.t.Add(time.Hour)})
	for _, modem := range []string{"m", "usb:1-1.2"} { // a reboot; the same SIM in another modem
		if _, err := w.Open(t.Context(), work.Lane{Modem: modem, SIM: sim, Log: slog.New(slog.DiscardHandler)}); err != nil {
			t.Fatal(err)
		}
		sched.Dispatch()
		if sched.QueueDepth() != 1 {
			t.Fatalf("lane %s was handed the next message: a fourth part within the minute", modem)
		}
		if h := sched.Holds("next")["next"]; h.Reason != HoldSIMLimit || !h.Until.Equal(clock.t.Add(57*time.Second)) {
			t.Fatalf("lane %s: hold %+v, want %s until the first send leaves the window", modem, h, HoldSIMLimit)
		}
		w.Close(modem)
	}
}
