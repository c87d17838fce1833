package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/hw"
	"github.com/gsmbridge/gsmbridge/internal/ussdsvc"
)

// The modem vocabulary lives in api; these names stay until the features
// that use them move out of daemon.
const (
	StateProbing    = api.ModemProbing
	StateReady      = api.ModemReady
	StateDegraded   = api.ModemDegraded
	StateResetting  = api.ModemResetting
	StateGone       = api.ModemGone
	StateSIMMissing = api.ModemSIMMissing
	StateSIMLocked  = api.ModemSIMLocked
	StateRegDenied  = api.ModemRegDenied
	StateNoService  = api.ModemNoService
)

// ModemStatus is the snapshot an owner keeps of its modem. Handlers and
// scrapes read it and never talk to the port themselves.
type ModemStatus = api.Modem

// Operator names a SIM's home network, from its IMSI.
type Operator = api.Operator

// ModemState is where a modem is in its life.
type ModemState = api.ModemState

// portOpener opens a modem's port; tests and the simulator use hw.Open too,
// the seam exists so a test can count opens.
type portOpener func(path string, cfg hw.PortConfig) (io.ReadWriteCloser, error)

func openHW(path string, cfg hw.PortConfig) (io.ReadWriteCloser, error) { return hw.Open(path, cfg) }

// owner is the one goroutine that owns a modem's port: it opens it, runs the
// AT engine over it, initialises the modem, sends what the scheduler hands
// it, and reopens the port when it is lost.
type owner struct {
	d    *Daemon
	port string
	cfg  hw.PortConfig
	name string
	log  *slog.Logger

	calls   chan call // work from other features, run on this goroutine
	usbPath string    // USB socket ("1-1.3") when discovered on USB
	pin     string

	// Only accessed from the owner's goroutine.
	escalation int         // escalation steps reached since the modem last worked: 0 none, i+1 up to escalationSteps[i]
	failures   int         // failed tries since the modem last worked, for backoff
	pinTried   bool        // the configured PIN was tried for the SIM in the modem
	probes     probeBudget // commands spent on a modem that cannot work
	heldFor    string      // the condition last announced, until the modem works again
	modem      *gsm.Modem  // the open session's dialogue; nil between sessions

	mu     sync.Mutex
	status ModemStatus
}

// call is a piece of work another feature (USSD, a balance check) runs on
// the owner goroutine, between sends, with the modem's engine.
type call struct {
	ctx  context.Context // the caller's: its deadline bounds fn
	fn   func(ctx context.Context, m *gsm.Modem) error
	done chan error
}

// ErrModemNotReady is returned for work on a modem that cannot take it now;
// it is the error USSD's Modems.Do promises.
var ErrModemNotReady = ussdsvc.ErrModemNotReady

// OnModem runs fn on the owner of modem id, with its modem, once the owner
// is between other work. fn must not block beyond ctx. While fn runs no SMS
// goes out through that modem.
func (d *Daemon) OnModem(ctx context.Context, id string, fn func(ctx context.Context, m *gsm.Modem) error) error {
	o := d.ownerOf(id)
	if o == nil {
		return fmt.Errorf("modem %s: %w", id, errNoModem)
	}
	if st := o.snapshot(); st.State != StateReady {
		return fmt.Errorf("modem %s is %s: %w", id, st.State, ErrModemNotReady)
	}
	c := call{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case o.calls <- c:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-c.done
}

var errNoModem = ussdsvc.ErrNoModem

func (d *Daemon) ownerOf(id string) *owner {
	for _, o := range d.ownersNow() {
		if o.snapshot().ID == id {
			return o
		}
	}
	return nil
}

// inherit carries the counters of a modem seen before under another port
// (it was unplugged and came back).
func (o *owner) inherit(prev ModemStatus) {
	o.update(func(s *ModemStatus) {
		s.Sent += prev.Sent
		s.Received += prev.Received
		s.SendFailures += prev.SendFailures
		s.Reconnects += prev.Reconnects + 1
		for k, v := range prev.Resets {
			s.Resets[k] += v
		}
	})
}

func (o *owner) snapshot() ModemStatus {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.status
	s.Resets = maps.Clone(s.Resets)
	return s
}

func (o *owner) update(f func(*ModemStatus)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	prev := o.status.State
	f(&o.status)
	if o.status.State != prev {
		o.status.Since = o.d.now()
		if o.status.State == StateReady {
			o.d.ussd.Wake() // its SIM may be due, or new
		}
	}
}

// announce records a modem event carrying the modem's current status.
func (o *owner) announce(typ string) {
	st := o.snapshot()
	if err := o.d.store.Devices.ModemEvent(context.Background(), st.ID, typ, st); err != nil {
		o.log.Error("record modem event", "event", typ, "err", err)
	}
}

func (o *owner) setSIMState(state string) {
	o.update(func(s *ModemStatus) { s.SIMState = state })
}

func (o *owner) setState(state ModemState, lastErr string) {
	o.update(func(s *ModemStatus) {
		s.State = state
		if lastErr != "" {
			s.LastError = lastErr
		}
	})
}

func (o *owner) refreshSignal(ctx context.Context) {
	q, err := o.modem.Signal(ctx)
	if err != nil {
		return
	}
	o.update(func(s *ModemStatus) {
		s.SignalBars = q.Bars
		if q.BER >= 0 && q.BER <= 7 {
			ber := q.BER
			s.BitErrorRate = &ber
		} else {
			s.BitErrorRate = nil
		}
		if q.Known {
			dbm := q.DBm
			s.SignalDBm = &dbm
		}
	})
}
