package daemon

import (
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// A lane that closes gives back the message it was handed and the owner did
// not take, wherever it waited; one the owner took stays with the owner.
func TestClosedLaneGivesBackWorkTheOwnerDidNotTake(t *testing.T) {
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = t.TempDir()
	d, err := New(cfg, Options{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.store.Close()
	lane := Lane{Modem: "m", SIM: store.SIM{ICCID: "8970", PLMN: "25001"}, Log: testLogger()}
	now := time.Now()

	if _, err := d.work.Open(t.Context(), lane); err != nil {
		t.Fatal(err)
	}
	d.sched.Enqueue(msg("untaken", now))
	d.sched.dispatch()
	if d.sched.QueueDepth() != 0 {
		t.Fatal("the message was not handed to the lane")
	}
	d.work.Close("m")
	if d.sched.QueueDepth() != 1 {
		t.Fatalf("queue depth %d after Close, want the untaken message back", d.sched.QueueDepth())
	}

	jobs, err := d.work.Open(t.Context(), lane)
	if err != nil {
		t.Fatal(err)
	}
	d.sched.dispatch()
	job := <-jobs
	if j, ok := job.(*sendJob); !ok || j.m.ID != "untaken" {
		t.Fatalf("job %#v, want the message given back", job)
	}
	d.work.Close("m")
	if d.sched.QueueDepth() != 0 {
		t.Fatalf("queue depth %d after Close, want the taken job left with the owner", d.sched.QueueDepth())
	}
}
