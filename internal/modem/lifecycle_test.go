package modem

import (
	"context"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/work"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// A modem unplugged in the middle of a job has not stopped answering: its
// port is gone, and the owner reopens it. Setting a port-less modem up
// again or restarting its radio cannot be done, and counting them would
// show escalation steps (and the resetting state) for a plain replug.
func TestPortLostDuringAJobIsAReopenNotAReset(t *testing.T) {
	w := &fakeWork{jobs: make(chan work.Job)}
	_, sim, p, _, _ := simPool(t, modemsim.Generic, w, &fakeInbound{}, &fakeDevices{}, func(o *Options) {
		o.ReopenMin, o.ReopenMax = 10*time.Millisecond, 50*time.Millisecond
	})
	eventually(t, "the modem ready", func() bool { m := p.Modems(); return len(m) == 1 && m[0].State == api.ModemReady })

	w.jobs <- jobFunc(func(ctx context.Context, m *gsm.Modem) work.Result {
		sim.Vanish()
		<-m.Done()
		return work.Result{Err: m.Ping(ctx)}
	})
	eventually(t, "the modem gone", func() bool { return p.Modems()[0].State == api.ModemGone })
	if err := sim.Return(""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the modem ready again", func() bool { m := p.Modems()[0]; return m.State == api.ModemReady && m.Reconnects > 0 })
	if r := p.Modems()[0].Resets; r[stepReinit] != 0 || r[stepCFUN] != 0 {
		t.Fatalf("resets %v after a replug, want no reinit or cfun", r)
	}
}
