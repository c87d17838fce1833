package modem

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/hw"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/ussd"
	"github.com/prometheus/client_golang/prometheus"
)

// Devices is what the owners need of the store's devices facade
// (store.Devices): the modem and SIM records and the modem events.
type Devices interface {
	SaveModem(ctx context.Context, m store.Modem) (store.Modem, error)
	SaveSIM(ctx context.Context, sim store.SIM) (saved store.SIM, previousInModem string, err error)
	ModemEvent(ctx context.Context, id, typ string, status any) error
}

// Operators are the operator profiles and per-SIM settings: a SIM's
// network from its IMSI, its own number and SMSC when configured.
type Operators interface {
	ForIMSI(imsi string) (ussd.Profile, bool)
	SIM(key, imsi string) (config.SIM, bool)
}

// Loads are the send lanes' loads, shown with each modem.
type Loads interface {
	Loads() map[string]api.LaneLoad
}

// Options are what New needs beyond its collaborators.
type Options struct {
	// Modems are the configured modems; an `auto: true` entry turns USB
	// discovery on.
	Modems  []config.Modem
	Health  config.Health
	Receive config.Receive
	Logger  *slog.Logger
	Now     func() time.Time
	// Open opens a modem's port (nil: hw.Open); tests count opens.
	Open func(path string, cfg hw.PortConfig) (io.ReadWriteCloser, error)
	// ATTimeout is an AT command's default deadline (0: 5s).
	ATTimeout time.Duration
	// ReopenMin and ReopenMax bound the waits between tries on a modem
	// that fails (0: 500ms and 30s).
	ReopenMin, ReopenMax time.Duration
	// RebootWaitMin and RebootWaitMax bound the waits before setting up
	// again a modem that keeps rebooting by itself (0: 1s and 1m); a
	// modem that stays up RebootWaitMax after a set-up is out of the loop.
	RebootWaitMin, RebootWaitMax time.Duration
	// BudgetWindow is the minute of health.commands_per_minute (0: a
	// minute); tests shorten it.
	BudgetWindow time.Duration
	// Registerer takes the AT command series.
	Registerer prometheus.Registerer
	// Ready hears of a modem that became ready (its SIM may be due for a
	// balance check, or new).
	Ready func()
	// Swept hears of a sweep of a modem's storage that completed: a
	// payment's deadline rule may wait for one (Pool.Sweep). It must not
	// block: it runs on the owner's goroutine.
	Swept func()
}

// Pool is the modem owners: one goroutine per port, those USB discovery
// adds and removes, and the ids they claim. Safe for concurrent use.
type Pool struct {
	work      Work
	inbound   Inbound
	devices   Devices
	operators Operators
	loads     Loads
	log       *slog.Logger
	now       func() time.Time
	open      func(path string, cfg hw.PortConfig) (io.ReadWriteCloser, error)
	metrics   *metrics
	ready     func()
	swept     func()

	health                       config.Health
	pollInterval                 time.Duration
	atTimeout                    time.Duration
	reopenMin, reopenMax         time.Duration
	rebootWaitMin, rebootWaitMax time.Duration
	budgetWindow                 time.Duration

	mu      sync.Mutex
	owners  []*owner
	ids     map[string]*owner    // claimed modem ids
	retired map[string]api.Modem // last status of modems unplugged, by id: counters survive a replug
	auto    *config.Modem        // the `auto: true` entry, when USB discovery is on
	// configured are the ports of the modems with their own entry, which
	// discovery leaves to them.
	configured []string
}

// New registers the AT command series and prepares an owner for each
// configured modem; Run starts them.
func New(w Work, in Inbound, devices Devices, ops Operators, loads Loads, o Options) (*Pool, error) {
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	p := &Pool{work: w, inbound: in, devices: devices, operators: ops, loads: loads, log: o.Logger, now: o.Now, open: o.Open,
		metrics: m, ready: o.Ready, swept: o.Swept, health: o.Health, pollInterval: o.Receive.PollInterval, atTimeout: o.ATTimeout,
		reopenMin: o.ReopenMin, reopenMax: o.ReopenMax, rebootWaitMin: o.RebootWaitMin, rebootWaitMax: o.RebootWaitMax,
		budgetWindow: o.BudgetWindow,
		ids:          map[string]*owner{}, retired: map[string]api.Modem{}}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.open == nil {
		p.open = func(path string, cfg hw.PortConfig) (io.ReadWriteCloser, error) { return hw.Open(path, cfg) }
	}
	if p.ready == nil {
		p.ready = func() {}
	}
	if p.swept == nil {
		p.swept = func() {}
	}
	if p.atTimeout == 0 {
		p.atTimeout = 5 * time.Second
	}
	if p.reopenMin == 0 {
		p.reopenMin = 500 * time.Millisecond
	}
	if p.reopenMax == 0 {
		p.reopenMax = 30 * time.Second
	}
	if p.rebootWaitMin == 0 {
		p.rebootWaitMin = time.Second
	}
	if p.rebootWaitMax == 0 {
		p.rebootWaitMax = time.Minute
	}
	if p.budgetWindow == 0 {
		p.budgetWindow = time.Minute
	}
	for _, m := range o.Modems {
		if m.Auto {
			p.auto = &m
			continue
		}
		p.owners = append(p.owners, p.newOwner(m.Port, m.Name, m.PIN, hw.PortConfig{Baud: m.Baud, DTR: m.DTR, RTS: m.RTS}))
		p.configured = append(p.configured, m.Port)
	}
	return p, nil
}

func (p *Pool) newOwner(port, name, pin string, pc hw.PortConfig) *owner {
	o := &owner{p: p, port: port, name: name, pin: pin, calls: make(chan call), sweeps: newSweepLog(), cfg: pc}
	o.modemStatus.now, o.modemStatus.ready = p.now, p.ready
	o.log = p.log.With("port", port)
	o.status = api.Modem{ID: "port:" + filepath.Base(port), Name: name, Port: port, State: api.ModemProbing, Since: p.now(), Resets: map[string]int{}}
	return o
}

// Run serves every modem, and with USB discovery on the modems plugged in
// meanwhile, until ctx ends; it returns once every owner stopped.
func (p *Pool) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, o := range p.ownersNow() {
		wg.Add(1)
		go func() { defer wg.Done(); o.run(ctx) }()
	}
	if p.auto != nil {
		wg.Add(1)
		go func() { defer wg.Done(); p.runHotplug(ctx) }()
	}
	wg.Wait()
}

// ErrModemNotReady is returned for work on a modem that cannot take it now.
var ErrModemNotReady = errors.New("modem is not ready")

// ErrNoModem is returned for work on a modem nobody knows.
var ErrNoModem = errors.New("no such modem")

// Do runs fn on the owner of modem id, with its modem, once the owner is
// between other work. fn must not block beyond ctx. While fn runs no SMS
// goes out through that modem.
func (p *Pool) Do(ctx context.Context, id string, fn func(ctx context.Context, m *gsm.Modem) error) error {
	o := p.ownerOf(id)
	if o == nil {
		return fmt.Errorf("modem %s: %w", id, ErrNoModem)
	}
	if st := o.snapshot(); st.State != api.ModemReady {
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

// Has says whether a modem with id is known.
func (p *Pool) Has(id string) bool { return p.ownerOf(id) != nil }

// SetSIMState shows the SIM in modem id in state (a suspect SIM resumed).
func (p *Pool) SetSIMState(id, state string) {
	if o := p.ownerOf(id); o != nil {
		o.setSIMState(state)
	}
}

// Modems returns every modem's snapshot, with its lane's load.
func (p *Pool) Modems() []api.Modem {
	owners := p.ownersNow()
	loads := p.loads.Loads()
	out := make([]api.Modem, 0, len(owners))
	for _, o := range owners {
		st := o.snapshot()
		if l, ok := loads[st.ID]; ok {
			st.QueueDepth, st.SentLastHour, st.SentLastDay = l.Queued, l.SentLastHour, l.SentLastDay
			st.Limits = &l.Limits
		}
		out = append(out, st)
	}
	return out
}

func (p *Pool) ownerOf(id string) *owner {
	for _, o := range p.ownersNow() {
		if o.snapshot().ID == id {
			return o
		}
	}
	return nil
}

// ownersNow is the set of owners at this moment (hotplug changes it).
func (p *Pool) ownersNow() []*owner {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.owners)
}

// claimModemID gives a modem its id: its IMEI when valid and not taken by
// another modem (clone sticks share junk IMEIs), else its port.
func (p *Pool) claimModemID(o *owner, imei, port string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, holder := range p.ids {
		if holder == o {
			delete(p.ids, id)
		}
	}
	if imei != "" {
		if holder, taken := p.ids[imei]; !taken || holder == o {
			p.ids[imei] = o
			if prev, ok := p.retired[imei]; ok {
				delete(p.retired, imei)
				o.inherit(prev)
			}
			return imei
		}
		p.log.Warn("IMEI already used by another modem; identifying this one by its port", "port", port)
	} else {
		p.log.Warn("modem has no valid IMEI; identifying it by its port", "port", port)
	}
	id := "port:" + filepath.Base(port)
	if o.usbPath != "" {
		// The USB socket survives re-enumeration; the tty name does not.
		id = "usb:" + o.usbPath
	}
	p.ids[id] = o
	if prev, ok := p.retired[id]; ok {
		delete(p.retired, id)
		o.inherit(prev)
	}
	return id
}
