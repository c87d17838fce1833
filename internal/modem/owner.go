package modem

import (
	"context"
	"log/slog"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/hw"
)

// owner is the one goroutine that owns a modem's port: it opens it, runs the
// AT engine over it, initialises the modem, sends what the scheduler hands
// it, and reopens the port when it is lost.
type owner struct {
	p    *Pool
	port string
	cfg  hw.PortConfig
	name string
	log  *slog.Logger

	calls   chan call // work from other features, run on this goroutine
	sweeps  *sweepLog // sweeps of the modem's storage, and those asked for
	usbPath string    // USB socket ("1-1.3") when discovered on USB
	pin     string

	// Only accessed from the owner's goroutine.
	escalation int         // escalation steps reached since the modem last worked: 0 none, i+1 up to escalationSteps[i]
	failures   int         // failed tries since the modem last worked, for backoff
	pinTried   bool        // the configured PIN was tried for the SIM in the modem
	probes     probeBudget // commands spent on a modem that cannot work
	heldFor    string      // the condition last announced, until the modem works again
	// setUpAt is when the last set-up began, on the clock the engine reads
	// lines by: a reboot announced before it is one the set-up answered.
	setUpAt time.Time
	boots   bootLoop   // the reboots the modem announced in a row, to pace their set-ups
	modem   *gsm.Modem // the open session's dialogue; nil between sessions

	modemStatus
}

// call is a piece of work another feature (USSD, a balance check) runs on
// the owner goroutine, between sends, with the modem's engine.
type call struct {
	ctx  context.Context // the caller's: its deadline bounds fn
	fn   func(ctx context.Context, m *gsm.Modem) error
	done chan error
}

// announce records a modem event carrying the modem's current status.
func (o *owner) announce(typ string) {
	st := o.snapshot()
	if err := o.p.devices.ModemEvent(context.Background(), st.ID, typ, st); err != nil {
		o.log.Error("record modem event", "event", typ, "err", err)
	}
}

func (o *owner) refreshSignal(ctx context.Context) {
	q, err := o.modem.Signal(ctx)
	if err != nil {
		return
	}
	o.update(func(s *api.Modem) {
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
