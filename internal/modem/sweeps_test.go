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

func TestSweepLog(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		swept      []time.Time // complete sweeps of sim1, in order, before the asks
		asks       []time.Time
		tokens     int  // asks the owner hears of
		owed       bool // after the asks
		sweptSince bool // sim1 swept since the last ask
	}{
		{name: "never swept, never asked"},
		{name: "asked before any sweep", asks: []time.Time{t0}, tokens: 1, owed: true},
		{name: "asks before the owner serves them are one", asks: []time.Time{t0, t0.Add(time.Second), t0}, tokens: 1, owed: true},
		{name: "a sweep began at the time asked", swept: []time.Time{t0}, asks: []time.Time{t0}, sweptSince: true},
		{name: "a sweep began after", swept: []time.Time{t0.Add(time.Second)}, asks: []time.Time{t0}, sweptSince: true},
		{name: "the last sweep began before", swept: []time.Time{t0.Add(-time.Second)}, asks: []time.Time{t0}, tokens: 1, owed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newSweepLog()
			for _, at := range tc.swept {
				l.swept("sim1", at)
			}
			for _, at := range tc.asks {
				l.ask(at)
			}
			if got := len(l.asked); got != tc.tokens {
				t.Errorf("%d asks reach the owner, want %d", got, tc.tokens)
			}
			if got := l.owed(); got != tc.owed {
				t.Errorf("owed %v, want %v", got, tc.owed)
			}
			if len(tc.asks) > 0 {
				last := tc.asks[len(tc.asks)-1]
				if got := l.sweptSince("sim1", last); got != tc.sweptSince {
					t.Errorf("swept since %v: %v, want %v", last, got, tc.sweptSince)
				}
				if l.sweptSince("sim2", last) || l.sweptSince("", last) {
					t.Error("a sweep of sim1 counts for another SIM")
				}
			}
		})
	}
	// The sweep that answers the asks is one beginning after the latest.
	l := newSweepLog()
	l.ask(t0)
	l.ask(t0.Add(time.Minute))
	l.swept("sim1", t0.Add(time.Second))
	if !l.owed() {
		t.Error("a sweep that began before the latest ask answered it")
	}
	l.swept("sim1", t0.Add(time.Minute))
	if l.owed() {
		t.Error("a sweep that began at the latest ask did not answer it")
	}
}

// A sweep asked of a busy owner is served once the job ends, once for all
// the asks made meanwhile, and finds what arrived unannounced; an ask that
// sweep already answers costs no command.
func TestAskedSweepsCoalesceAndFindWhatWasNotAnnounced(t *testing.T) {
	w := &fakeWork{jobs: make(chan work.Job)}
	in := &fakeInbound{}
	swept := make(chan struct{}, 10)
	n, sim, p, _, _ := simPool(t, modemsim.Generic, w, in, &fakeDevices{}, func(o *Options) { o.Swept = func() { swept <- struct{}{} } })
	eventually(t, "the modem ready", func() bool { m := p.Modems(); return len(m) == 1 && m[0].State == api.ModemReady })
	<-swept // the start-up sweep
	iccid := p.Modems()[0].ICCID
	startup := sim.Record().Commands("AT+CMGL")

	release := make(chan struct{})
	w.jobs <- jobFunc(func(ctx context.Context, m *gsm.Modem) work.Result {
		<-release
		return work.Result{}
	})
	sim.Faults().LoseIndications("+CMTI", 1)
	if err := n.Phones().Send("+79990000001", sim.Config().MSISDN, "unannounced"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the SMS stored unannounced", func() bool { return sim.Record().Stored("SM") == 1 })
	from := time.Now()
	if p.SweptSince(iccid, from) {
		t.Fatal("swept since before any sweep began")
	}
	for range 3 {
		p.Sweep(iccid, from)
	}
	p.Sweep("no such SIM", from)
	close(release)
	<-swept
	if !p.SweptSince(iccid, from) {
		t.Fatal("the sweep asked for does not count")
	}
	if in.taken() != 1 {
		t.Fatalf("took %d PDUs, want the unannounced one", in.taken())
	}
	p.Sweep(iccid, from) // answered already
	ran := make(chan struct{})
	w.jobs <- jobFunc(func(context.Context, *gsm.Modem) work.Result { close(ran); return work.Result{} })
	<-ran
	if got := sim.Record().Commands("AT+CMGL") - startup; got != 1 {
		t.Fatalf("%d sweeps for the asks, want 1", got)
	}
}
