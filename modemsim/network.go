package modemsim

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"
)

// NetworkOptions configure a Network. Zero values pick the defaults noted.
type NetworkOptions struct {
	Clock  Clock        // RealClock()
	Root   string       // dir for the fake sysfs and dev tree; "" = temp dir, removed on Close
	Logger *slog.Logger // discards
	// DeliveryDelay is how long an SMS spends in the network (1 s).
	DeliveryDelay time.Duration
	// ReportDelay is how long after delivery a status report comes back (2 s).
	ReportDelay time.Duration
	// RetryInterval is how often undeliverable messages are retried (30 s);
	// freeing storage on the receiving modem retries at once.
	RetryInterval time.Duration
	// ReverseParts delivers the parts of a concatenated SMS to a SIM last part
	// first, as real networks sometimes do.
	ReverseParts bool
	// FirstModem numbers the modems from here; a modem's defaults (name
	// simN, IMEI, IMSI, ICCID, MSISDN) follow from its number. The networks
	// of a demo fleet's hosts start apart, so that no SIM is on two hosts.
	FirstModem int
}

// Network is the virtual GSM network the simulated modems and phones live
// in. All methods are safe for concurrent use.
type Network struct {
	clock   Clock
	log     *slog.Logger
	opts    NetworkOptions
	root    string
	ownRoot bool
	done    chan struct{}
	kick    chan struct{}
	kicks   atomic.Uint64 // retrySoon calls, so a delivery refused meanwhile is retried
	wg      sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	modems  []*Modem
	phones  *Phones
	pending []delivery
	held    map[concatKey][]delivery // parts kept back for ReverseParts, by seq
	encoder *sms.Encoder             // one encoder, so concatenation references advance
	seq     int                      // modems added, for defaults
	usbPort int
	ttyNum  int
	devnum  int
}

// delivery is a TPDU on its way to a SIM.
type delivery struct {
	to     string // normalised MSISDN
	tpdu   []byte
	report bool // SMS-STATUS-REPORT rather than SMS-DELIVER
}

type concatKey struct {
	from, to   string
	ref, total int
}

// NewNetwork creates an empty network and its fake sysfs tree.
func NewNetwork(opts NetworkOptions) (*Network, error) {
	if opts.Clock == nil {
		opts.Clock = RealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.DeliveryDelay <= 0 {
		opts.DeliveryDelay = time.Second
	}
	if opts.ReportDelay <= 0 {
		opts.ReportDelay = 2 * time.Second
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = 30 * time.Second
	}
	n := &Network{
		clock:   opts.Clock,
		log:     opts.Logger,
		opts:    opts,
		root:    opts.Root,
		done:    make(chan struct{}),
		kick:    make(chan struct{}, 1),
		held:    map[concatKey][]delivery{},
		encoder: sms.NewEncoder(sms.AsDeliver),
		usbPort: 1,
		seq:     opts.FirstModem,
	}
	n.phones = &Phones{n: n, phones: map[string]*phone{}}
	if n.root == "" {
		dir, err := os.MkdirTemp("", "gsmbridge-sim-")
		if err != nil {
			return nil, fmt.Errorf("sim: root dir: %w", err)
		}
		n.root, n.ownRoot = dir, true
	}
	sys, dev := n.Roots()
	for _, d := range []string{filepath.Join(sys, "class", "tty"), filepath.Join(sys, "devices"), dev} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("sim: root dir: %w", err)
		}
	}
	n.spawn(n.retryLoop)
	return n, nil
}

// Roots returns the fake sysfs and dev directories (the hw.Roots contract).
func (n *Network) Roots() (sys, dev string) {
	return filepath.Join(n.root, "sys"), filepath.Join(n.root, "dev")
}

// Close stops every modem and goroutine and waits for them.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	modems := n.modems
	n.mu.Unlock()
	close(n.done)
	var errs []error
	for _, m := range modems {
		m.shutdown()
	}
	n.wg.Wait()
	if n.ownRoot {
		errs = append(errs, os.RemoveAll(n.root))
	}
	return errors.Join(errs...)
}

// spawn runs f in a goroutine that Close waits for; f must return once
// done is closed. It reports whether f was started: not once the network
// closed.
func (n *Network) spawn(f func(done <-chan struct{})) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return false
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f(n.done)
	}()
	return true
}

// after runs f once d of virtual time has passed, unless the network closes
// first.
func (n *Network) after(d time.Duration, f func()) {
	n.spawn(func(done <-chan struct{}) {
		select {
		case <-n.clock.After(d):
			f()
		case <-done:
		}
	})
}

// sleep waits d of virtual time; false when the network closed meanwhile.
func (n *Network) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	select {
	case <-n.clock.After(d):
		return true
	case <-n.done:
		return false
	}
}

func (n *Network) retryLoop(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-n.kick:
		case <-n.clock.After(n.opts.RetryInterval):
		}
		n.mu.Lock()
		todo := n.pending
		n.pending = nil
		n.mu.Unlock()
		for _, d := range todo {
			n.deliver(d)
		}
	}
}

// retrySoon asks the network to retry pending deliveries now (storage freed,
// modem back, indications switched on).
func (n *Network) retrySoon() {
	n.kicks.Add(1)
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// normalise turns the ways a Russian number is written into one key.
func normalise(number string) string {
	var b strings.Builder
	for _, r := range number {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) == 11 && s[0] == '8' {
		s = "7" + s[1:]
	}
	return s
}

func (n *Network) modemByNumber(number string) *Modem {
	key := normalise(number)
	// Lock order is Modem.mu before Network.mu, so the list is copied first.
	n.mu.Lock()
	modems := n.modems
	n.mu.Unlock()
	for _, m := range modems {
		if msisdn := m.msisdn(); msisdn != "" && normalise(msisdn) == key {
			return m
		}
	}
	return nil
}

// deliver hands a TPDU to the SIM it is for, or keeps it pending when the
// modem cannot take it now.
func (n *Network) deliver(d delivery) {
	kicks := n.kicks.Load()
	m := n.modemByNumber(d.to)
	if m != nil && m.rx.receive(d) {
		return
	}
	n.requeue(d)
	if n.kicks.Load() != kicks {
		// Storage was freed (or the like) between the refusal and the
		// requeue: the retry it asked for may have run before the requeue,
		// and the next one would be RetryInterval away.
		n.retrySoon()
	}
}

// requeue keeps a delivery for the next retry.
func (n *Network) requeue(d delivery) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.pending = append(n.pending, d)
	}
}

// submit takes an SMS-SUBMIT a modem accepted and routes it.
func (n *Network) submit(from string, t *tpdu.TPDU, mr byte) {
	to := normalise(t.DA.Number())
	n.after(n.opts.DeliveryDelay, func() {
		status := byte(0x00)
		switch {
		case n.modemByNumber(to) != nil:
			n.deliverSubmit(from, to, t)
		case n.phones.receive(from, to, t):
		default:
			// 23.040 9.2.3.15: permanent error, incompatible destination.
			status = 0x41
		}
		if t.FirstOctet.SRR() {
			n.after(n.opts.ReportDelay, func() { n.sendReport(from, t, mr, status) })
		}
	})
}

func (n *Network) deliverSubmit(from, to string, t *tpdu.TPDU) {
	d := delivery{to: to, tpdu: n.deliverFromSubmit(from, t)}
	total, seq, ref, ok := t.ConcatInfo()
	if !n.opts.ReverseParts || !ok || total < 2 || seq < 1 || seq > total {
		n.deliver(d)
		return
	}
	key := concatKey{from: from, to: to, ref: ref, total: total}
	n.mu.Lock()
	parts := n.held[key]
	if parts == nil {
		parts = make([]delivery, total)
	}
	parts[seq-1] = d
	n.held[key] = parts
	complete := !slices.ContainsFunc(parts, func(p delivery) bool { return p.tpdu == nil })
	if complete {
		delete(n.held, key)
	}
	n.mu.Unlock()
	if complete {
		for i := len(parts) - 1; i >= 0; i-- {
			n.deliver(parts[i])
		}
	}
}

// deliverFromSubmit re-encodes what the sender submitted as the SMS-DELIVER
// the recipient gets: same coding, same UDH, so concatenation is kept.
func (n *Network) deliverFromSubmit(from string, s *tpdu.TPDU) []byte {
	d, _ := tpdu.NewDeliver()
	d.OA = internationalAddress(from)
	d.PID = s.PID
	d.DCS = s.DCS
	d.SetUDH(s.UDH)
	d.UD = s.UD
	d.SCTS = tpdu.Timestamp{Time: n.moscowNow()}
	d.FirstOctet |= tpdu.FoMMS
	b, err := d.MarshalBinary()
	if err != nil {
		n.log.Error("sim: re-encoding a submitted SMS failed", "err", err)
	}
	return b
}

func (n *Network) sendReport(from string, s *tpdu.TPDU, mr byte, status byte) {
	r := tpdu.TPDU{}
	if err := r.SetSmsType(tpdu.SmsStatusReport); err != nil {
		n.log.Error("sim: status report", "err", err)
		return
	}
	r.MR = mr
	r.RA = internationalAddress(s.DA.Number())
	now := n.moscowNow()
	r.SCTS = tpdu.Timestamp{Time: now.Add(-n.opts.ReportDelay)}
	r.DT = tpdu.Timestamp{Time: now}
	r.ST = status
	b, err := r.MarshalBinary()
	if err != nil {
		n.log.Error("sim: status report", "err", err)
		return
	}
	n.deliver(delivery{to: normalise(from), tpdu: b, report: true})
}

// moscowNow is the SCTS time: Russian SMSCs stamp in their own zone, +03.
func (n *Network) moscowNow() time.Time {
	return n.clock.Now().In(time.FixedZone("MSK", 3*3600)).Truncate(time.Second)
}

func internationalAddress(number string) tpdu.Address {
	a := tpdu.NewAddress(tpdu.FromNumber("+" + normalise(number)))
	return a
}
