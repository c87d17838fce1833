package modem

import (
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/work"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// The set-ups a modem's own reboots cause: two in a row at once (one
// start-up can announce itself twice), then waits doubling up to the cap,
// and at once again after the modem stayed up as long as the cap.
func TestBootLoopWaits(t *testing.T) {
	const least, most = time.Second, time.Minute
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		up   []time.Duration // how long the modem stayed up after each set-up before rebooting
		want []time.Duration // the wait before each set-up
	}{
		{"one reboot", []time.Duration{0}, []time.Duration{0}},
		{"a start-up in two lines", []time.Duration{0, time.Second}, []time.Duration{0, 0}},
		{"a loop doubles up to the cap", []time.Duration{0, 2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second,
			2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second},
			[]time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}},
		{"reboots a minute apart are no loop", []time.Duration{0, time.Minute, time.Minute, time.Minute}, []time.Duration{0, 0, 0, 0}},
		{"a loop that calmed down starts over", []time.Duration{0, time.Second, time.Second, time.Second, 2 * time.Minute, time.Second, time.Second},
			[]time.Duration{0, 0, time.Second, 2 * time.Second, 0, 0, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bootLoop
			now := t0
			for i, up := range tt.up {
				now = now.Add(up)
				w := b.wait(now, least, most)
				if w != tt.want[i] {
					t.Fatalf("reboot %d: wait %v, want %v", i+1, w, tt.want[i])
				}
				now = now.Add(w)
				b.lastSetUp = now
			}
		})
	}
}

// A modem in a boot loop (an RDY every 50 ms for 3 s) is not set up again
// for every reboot: the commands it receives over the storm stay within
// what the paced set-ups cost, the waits show in its resets, and it is
// ready once the storm is over.
func TestABootLoopIsSetUpAtAPace(t *testing.T) {
	w := &fakeWork{jobs: make(chan work.Job)}
	const least, most = 100 * time.Millisecond, 800 * time.Millisecond
	_, sim, p, _, _ := simPool(t, modemsim.SIMCom, w, &fakeInbound{}, &fakeDevices{}, func(o *Options) {
		o.ReopenMin, o.ReopenMax = 10*time.Millisecond, 50*time.Millisecond
		o.RebootWaitMin, o.RebootWaitMax = least, most
	})
	eventually(t, "the modem ready", func() bool { m := p.Modems(); return len(m) == 1 && m[0].State == api.ModemReady })
	perSetUp := len(sim.Record().CommandLines())

	const reboots, every = 60, 50 * time.Millisecond
	storm := time.Duration(reboots-1) * every
	before, cfunBefore := len(sim.Record().CommandLines()), sim.Record().Commands("AT+CFUN?")
	<-sim.RebootLoop(reboots, every)
	last := time.Now()
	// Settled: ready after a set-up that began after the last reboot.
	eventually(t, "the modem ready after the storm", func() bool {
		times := sim.Record().CommandTimes("AT+CNMI=2")
		return p.Modems()[0].State == api.ModemReady && len(times) > 0 && times[len(times)-1].After(last)
	})
	// At most the set-ups answered at once, one after each wait that fits
	// in the storm, and the one after it.
	setUps := rebootsAtOnce + 1
	for wait, waited := least, time.Duration(0); waited < storm; wait = min(2*wait, most) {
		waited += wait
		setUps++
	}
	// A set-up begun by the owner asks AT+CFUN? once it has the modem's
	// basic settings in place; a reboot may cut a command short before
	// that, which costs a resynchronisation (2 commands) and the basic
	// settings again (4).
	if got := sim.Record().Commands("AT+CFUN?") - cfunBefore; got > setUps {
		t.Errorf("the modem was set up %d times over %d reboots in %v, want at most %d", got, reboots, storm, setUps)
	}
	if got, most := len(sim.Record().CommandLines())-before, setUps*perSetUp+6*reboots; got > most {
		t.Errorf("the modem received %d commands over %d reboots in %v, want at most %d (%d set-ups of %d commands, 6 a reboot)",
			got, reboots, storm, most, setUps, perSetUp)
	}
	if st := p.Modems()[0]; st.Resets[api.RebootWait] == 0 {
		t.Errorf("resets %v: no reboot_wait counted", st.Resets)
	}
}
