package sending

import (
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
