package modem

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// Run starts the owners; it returns only after they ended.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// simPool runs a pool over one simulated modem of dialect d until the test
// ends, idle checks and storage polls out of the test's way; change (if
// not nil) adjusts its options. The pool stops before the network closes,
// or when stop is called (which waits for Run to return).
func simPool(t *testing.T, d modemsim.Dialect, w *fakeWork, in *fakeInbound, devices *fakeDevices, change func(*Options)) (
	n *modemsim.Network, sim *modemsim.Modem, p *Pool, ctx context.Context, stop func()) {
	t.Helper()
	n, err := modemsim.NewNetwork(modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	sim, err = n.AddModem(modemsim.ModemConfig{Dialect: d})
	if err != nil {
		t.Fatal(err)
	}
	h := config.Default().Health
	h.IdleCheckAfter = time.Hour
	o := Options{Modems: []config.Modem{{Port: sim.Path(), Baud: 115200}}, Health: h,
		Receive: config.Receive{PollInterval: time.Hour}, Logger: slog.New(slog.DiscardHandler), ATTimeout: time.Second}
	if change != nil {
		change(&o)
	}
	p, err = New(w, in, devices, noOperators{}, noLoads{}, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return n, sim, p, ctx, stop
}
