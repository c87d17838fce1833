package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/atcmd"
	"github.com/gsmbridge/gsmbridge/daemon/store"
	"github.com/gsmbridge/gsmbridge/hw"
	"github.com/gsmbridge/gsmbridge/sms"
)

// Modem states as the API and metrics show them.
const (
	StateProbing    = "probing"
	StateReady      = "ready"
	StateDegraded   = "degraded"
	StateResetting  = "resetting"
	StateGone       = "gone"
	StateSIMMissing = "sim_missing"
	StateSIMLocked  = "sim_locked"
	StateRegDenied  = "reg_denied"
	StateNoService  = "no_service"
)

// ModemStatus is the snapshot an owner keeps of its modem. Handlers and
// scrapes read it and never talk to the port themselves.
type ModemStatus struct {
	ID           string    `json:"id"`
	Name         string    `json:"name,omitempty"`
	Port         string    `json:"port"`
	State        string    `json:"state"`
	Since        time.Time `json:"state_since"`
	Manufacturer string    `json:"manufacturer,omitempty"`
	Model        string    `json:"model,omitempty"`
	Revision     string    `json:"revision,omitempty"`
	IMEI         string    `json:"imei,omitempty"`
	ICCID        string    `json:"iccid,omitempty"`
	IMSI         string    `json:"imsi,omitempty"`
	MSISDN       string    `json:"msisdn,omitempty"`
	Operator     Operator  `json:"operator"`
	SignalDBm    *int      `json:"signal_dbm,omitempty"`
	SignalBars   int       `json:"signal_bars"`
	Registration string    `json:"registration,omitempty"`
	StorageUsed  int       `json:"storage_used"`
	StorageTotal int       `json:"storage_total"`
	SIMState     string    `json:"sim_state,omitempty"`
	QueueDepth   int       `json:"queue_depth"`
	Sent         uint64    `json:"sent"`
	Received     uint64    `json:"received"`
	SendFailures uint64    `json:"send_failures"`
	Reconnects   uint64    `json:"reconnects"`
	LastError    string    `json:"last_error,omitempty"`
}

// Operator names a SIM's home network, from its IMSI.
type Operator struct {
	PLMN string `json:"plmn,omitempty"`
	Name string `json:"name,omitempty"`
}

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

	calls chan call // work from other features, run on this goroutine

	mu     sync.Mutex
	status ModemStatus
}

// call is a piece of work another feature (USSD, a balance check) runs on
// the owner goroutine, between sends, with the modem's engine.
type call struct {
	ctx  context.Context // the caller's: its deadline bounds fn
	fn   func(ctx context.Context, eng *atcmd.Engine) error
	done chan error
}

// ErrModemNotReady is returned for work on a modem that cannot take it now.
var ErrModemNotReady = errors.New("modem is not ready")

// OnModem runs fn on the owner of modem id, with its engine, once the owner
// is between other work. fn must not block beyond ctx. While fn runs no SMS
// goes out through that modem.
func (d *Daemon) OnModem(ctx context.Context, id string, fn func(ctx context.Context, eng *atcmd.Engine) error) error {
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

var errNoModem = errors.New("no such modem")

func (d *Daemon) ownerOf(id string) *owner {
	for _, o := range d.owners {
		if o.snapshot().ID == id {
			return o
		}
	}
	return nil
}

func (o *owner) snapshot() ModemStatus {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.status
}

func (o *owner) update(f func(*ModemStatus)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	prev := o.status.State
	f(&o.status)
	if o.status.State != prev {
		o.status.Since = o.d.now()
	}
}

// announce records a modem event carrying the modem's current status.
func (o *owner) announce(typ string) {
	st := o.snapshot()
	if err := o.d.store.ModemEvent(context.Background(), st.ID, typ, st); err != nil {
		o.log.Error("record modem event", "event", typ, "err", err)
	}
}

func (o *owner) setState(state, lastErr string) {
	o.update(func(s *ModemStatus) {
		s.State = state
		if lastErr != "" {
			s.LastError = lastErr
		}
	})
}

// run keeps the modem in service until ctx ends.
func (o *owner) run(ctx context.Context) {
	backoff := o.d.reopenMin
	for first := true; ctx.Err() == nil; first = false {
		if !first {
			o.update(func(s *ModemStatus) { s.Reconnects++ })
		}
		err := o.session(ctx)
		if ctx.Err() != nil {
			return
		}
		o.log.Warn("modem session ended", "err", err)
		o.setState(StateGone, err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, o.d.reopenMax)
	}
}

// session runs one connection to the modem: open, init, serve.
func (o *owner) session(ctx context.Context) error {
	o.setState(StateProbing, "")
	port, err := o.d.open(o.port, o.cfg)
	if err != nil {
		return fmt.Errorf("open %s: %w", o.port, err)
	}
	eng := atcmd.New(port, atcmd.Options{Logger: o.log, CommandTimeout: 5 * time.Second})
	defer func() {
		eng.Close()
		port.Close()
	}()
	inds, unsubscribe := eng.Subscribe()
	defer unsubscribe()
	for {
		err := o.serve(ctx, eng, inds)
		if !errors.Is(err, errRebooted) {
			return err
		}
		// A reboot forgets every setting and may come with another SIM:
		// start over on the same port.
		o.setState(StateProbing, "")
	}
}

// errRebooted ends serve when the modem announced a reboot.
var errRebooted = errors.New("modem rebooted")

// serve initialises the modem and serves it until the engine stops, ctx ends
// or the modem reboots.
func (o *owner) serve(ctx context.Context, eng *atcmd.Engine, inds <-chan atcmd.Indication) error {
	id, sim, err := o.init(ctx, eng)
	if err != nil {
		return err
	}
	rs, err := o.setupReceive(ctx, eng)
	if err != nil {
		return err
	}
	if err := o.sweep(ctx, eng); err != nil {
		o.log.Warn("start-up sweep of the modem's storage", "err", err)
	}
	jobs := o.d.sched.AddLane(id, sim.ICCID, sim.PLMN, o.d.limitsFor(sim), o.d.recentSends(ctx, sim.ICCID))
	defer o.d.sched.RemoveLane(id)
	cooldown := time.NewTimer(time.Hour)
	cooldown.Stop()
	defer cooldown.Stop()
	if sim.State == store.SIMSuspect {
		o.d.sched.Pause(id, "suspect")
		cooldown.Reset(max(0, o.d.cfg.Send.SuspectCooldown-o.d.now().Sub(sim.StateSince)))
	}
	o.setState(StateReady, "")
	o.announce("modem.up")
	defer func() {
		if ctx.Err() == nil {
			o.setState(StateGone, "")
			o.announce("modem.down")
		}
	}()
	o.log.Info("modem ready", "modem", id, "operator", sim.PLMN, "storage", rs.mem, "indications", rs.cnmi)

	poll := time.NewTicker(o.d.cfg.Receive.PollInterval)
	defer poll.Stop()
	idleCheck := o.d.cfg.Health.IdleCheckAfter
	health := time.NewTicker(idleCheck)
	defer health.Stop()
	lastTraffic := o.d.now()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-eng.Done():
			return eng.Err()
		case m := <-jobs:
			sent, failed := o.send(ctx, eng, id, sim, m)
			o.d.sched.Done(id, sent)
			lastTraffic = o.d.now()
			if len(sent) > 0 || failed {
				_, suspect, err := o.d.store.SendOutcome(context.WithoutCancel(ctx), sim.ICCID, m.To, failed, o.d.cfg.Send.SuspectAfter)
				if err != nil {
					o.log.Error("record send outcome", "err", err)
				}
				if suspect {
					o.log.Warn("SIM turned suspect: it takes no work until a cool-down check or a resume", "iccid", sim.ICCID)
					o.d.sched.Pause(id, "suspect")
					o.setSIMState(store.SIMSuspect)
					cooldown.Reset(o.d.cfg.Send.SuspectCooldown)
				}
			}
		case <-cooldown.C:
			if o.registered(ctx, eng) {
				if _, err := o.d.store.ResumeSIM(context.WithoutCancel(ctx), sim.ICCID, "cool-down passed and the SIM is registered"); err != nil {
					o.log.Error("resume SIM", "err", err)
				} else {
					o.d.resumeLane(id)
				}
			} else {
				cooldown.Reset(o.d.cfg.Send.SuspectCooldown)
			}
		case c := <-o.calls:
			// The work ends with the caller's context or the owner's,
			// whichever ends first.
			cctx, cancel := context.WithCancel(c.ctx)
			stop := context.AfterFunc(ctx, cancel)
			c.done <- c.fn(cctx, eng)
			stop()
			cancel()
			lastTraffic = o.d.now()
		case <-health.C:
			// Health comes from checks on an idle modem only, so a busy
			// modem spends its commands on sending.
			if o.d.now().Sub(lastTraffic) < idleCheck {
				continue
			}
			lastTraffic = o.d.now()
			if err := o.healthCheck(ctx, eng, id, &rs); err != nil {
				return err
			}
		case <-poll.C:
			if err := o.sweep(ctx, eng); err != nil {
				o.log.Warn("storage poll", "err", err)
			}
		case ind, ok := <-inds:
			if !ok {
				return eng.Err()
			}
			if ind.IsReboot() {
				o.log.Warn("modem rebooted by itself; setting it up again", "line", ind.Line)
				return errRebooted
			}
			lastTraffic = o.d.now()
			if err := o.indication(ctx, eng, &rs, ind); err != nil {
				return err
			}
		}
	}
}

// healthCheck runs on an idle modem: it confirms the indication settings are
// still in place (a modem that reset without announcing it has forgotten
// them, and receiving would stop without a word) and refreshes the signal.
func (o *owner) healthCheck(ctx context.Context, eng *atcmd.Engine, id string, rs *receiveSetup) error {
	lines, err := eng.Exec(ctx, "AT+CNMI?")
	if err != nil {
		if errors.Is(err, atcmd.ErrPortLost) || errors.Is(err, atcmd.ErrHung) {
			return err
		}
		o.log.Warn("health check", "err", err)
		return nil
	}
	want := strings.TrimPrefix(rs.cnmi, "AT+CNMI=")
	got := ""
	if len(lines) > 0 {
		got = strings.ReplaceAll(strings.TrimSpace(strings.TrimPrefix(lines[0], "+CNMI:")), " ", "")
	}
	if got != want {
		o.log.Warn("the modem lost its new-message indication settings (did it reset?); setting it up again", "had", got, "want", want)
		o.d.sched.Pause(id, "reinit")
		if err := o.reinit(ctx, eng, rs); err != nil {
			return fmt.Errorf("restoring settings: %w", err)
		}
		o.d.sched.Unpause(id, "reinit")
	}
	o.refreshSignal(ctx, eng)
	return nil
}

// settle applies the basic settings, waiting out the "SIM busy" and
// half-booted answers modems give for a few seconds after power-up.
func (o *owner) settle(ctx context.Context, eng *atcmd.Engine) error {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		if err = o.applySettings(ctx, eng); err == nil {
			return nil
		}
		if errors.Is(err, atcmd.ErrPortLost) || errors.Is(err, atcmd.ErrHung) || errors.Is(err, atcmd.ErrClosed) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.d.reopenMin):
		}
	}
	return err
}

// reinit repeats the settings a reboot lost, waiting out the SIM-busy answers
// modems give right after boot.
func (o *owner) reinit(ctx context.Context, eng *atcmd.Engine, rs *receiveSetup) error {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		if err = o.applySettings(ctx, eng); err == nil {
			if *rs, err = o.setupReceive(ctx, eng); err == nil {
				if err := o.sweep(ctx, eng); err != nil {
					o.log.Warn("sweep after reboot", "err", err)
				}
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.d.reopenMin):
		}
	}
	return err
}

func (o *owner) applySettings(ctx context.Context, eng *atcmd.Engine) error {
	for _, cmd := range []string{"ATE0", "AT+CMEE=1", "AT+CMGF=0"} {
		if _, err := eng.Exec(ctx, cmd); err != nil {
			return fmt.Errorf("init %s: %w", cmd, err)
		}
	}
	return nil
}

// init brings the modem to a known state and learns who it and its SIM are.
func (o *owner) init(ctx context.Context, eng *atcmd.Engine) (string, store.SIM, error) {
	if err := o.settle(ctx, eng); err != nil {
		return "", store.SIM{}, err
	}
	ident, err := hw.ReadIdentity(ctx, eng)
	if err != nil {
		return "", store.SIM{}, fmt.Errorf("identity: %w", err)
	}
	id := o.d.claimModemID(o, ident.IMEI, o.port)
	o.update(func(s *ModemStatus) {
		s.ID, s.Manufacturer, s.Model, s.Revision = id, ident.Manufacturer, ident.Model, ident.Revision
		s.IMEI, s.ICCID, s.IMSI, s.MSISDN = ident.IMEI, ident.ICCID, ident.IMSI, ident.OwnNumber
	})
	if _, err := o.d.store.SaveModem(ctx, store.Modem{ID: id, IMEI: ident.IMEI, Port: o.port, Name: o.name,
		Manufacturer: ident.Manufacturer, Model: ident.Model, Revision: ident.Revision, ICCID: ident.ICCID}); err != nil {
		return "", store.SIM{}, err
	}
	if ident.ICCID == "" || ident.IMSI == "" {
		o.setState(StateSIMMissing, "no SIM answered")
		return "", store.SIM{}, errors.New("no SIM")
	}
	plmn, opName := "", ""
	if p, ok := o.d.profiles.ForIMSI(ident.IMSI); ok {
		plmn, opName = p.PLMN[0], p.Name
		for _, candidate := range p.PLMN {
			if strings.HasPrefix(ident.IMSI, candidate) {
				plmn = candidate
			}
		}
	}
	msisdn := ident.OwnNumber
	smsc := ident.SMSC
	if ov, ok := o.d.cfg.SIMs[ident.ICCID]; ok {
		if ov.MSISDN != "" {
			msisdn = ov.MSISDN
		}
		if ov.SMSC != "" {
			smsc = ov.SMSC
		}
	}
	sim, previous, err := o.d.store.SaveSIM(ctx, store.SIM{ICCID: ident.ICCID, IMSI: ident.IMSI, MSISDN: msisdn,
		PLMN: plmn, SMSC: smsc, ModemID: id})
	if err != nil {
		return "", store.SIM{}, err
	}
	if previous != "" && previous != sim.ICCID {
		o.log.Warn("the SIM in this modem was swapped", "modem", id, "previous", previous, "iccid", sim.ICCID)
	}
	o.update(func(s *ModemStatus) {
		s.Operator = Operator{PLMN: plmn, Name: opName}
		s.MSISDN = sim.MSISDN
		s.SIMState = sim.State
	})
	o.refreshSignal(ctx, eng)
	return id, sim, nil
}

func (o *owner) refreshSignal(ctx context.Context, eng *atcmd.Engine) {
	lines, err := eng.Exec(ctx, "AT+CSQ")
	if err != nil || len(lines) == 0 {
		return
	}
	q, err := atcmd.ParseCSQ(lines[0])
	if err != nil {
		return
	}
	o.update(func(s *ModemStatus) {
		s.SignalBars = q.Bars
		if q.Known {
			dbm := q.DBm
			s.SignalDBm = &dbm
		}
	})
}

// send writes the parts of m that are left and records each outcome. It
// returns when each part went out, for the SIM's send-limit windows.
func (o *owner) send(ctx context.Context, eng *atcmd.Engine, modemID string, sim store.SIM, m *store.Message) (sentAt []time.Time, failed bool) {
	log := o.log.With("message", m.ID, "to", sms.MaskNumber(m.To))
	full, err := o.d.store.GetMessage(ctx, m.ID)
	if err != nil {
		log.Error("load queued message", "err", err)
		return nil, false
	}
	remaining := full.ExpiresAt.Sub(o.d.now())
	parts, err := sms.EncodeSubmit(full.To, full.Text, sms.SubmitOptions{
		StatusReport: full.Report,
		Validity:     remaining,
		ConcatRef:    uint16(full.ConcatRef),
	})
	if err != nil {
		o.d.store.PartNotSent(ctx, m.ID, 1, store.ErrorInfo{Code: "encode", Message: err.Error()}, time.Time{})
		return nil, false
	}
	for _, p := range parts {
		if full.PartList[p.Seq-1].State != "pending" {
			continue
		}
		if ctx.Err() != nil {
			// Stopping between parts: the rest go out after the restart,
			// through the same SIM.
			return sentAt, false
		}
		if _, err := o.d.store.BeginPart(ctx, m.ID, p.Seq, sim.ICCID, modemID); err != nil {
			if errors.Is(err, store.ErrExpired) {
				o.d.store.Expire(ctx, m.ID)
			} else {
				log.Error("begin part", "err", err)
				o.requeueLater(ctx, m.ID)
			}
			return sentAt, false
		}
		// A stop of the daemon must not cut a PDU off mid-send: that would
		// make its outcome unknown. The send runs to its own deadline.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.d.cfg.Send.CommandTimeout)
		lines, err := eng.SendData(sctx, "AT+CMGS="+strconv.Itoa(p.TPDULen), p.PDU)
		cancel()
		if err == nil {
			mr, perr := parseCMGS(lines)
			if perr != nil {
				mr = -1
			}
			sentAt = append(sentAt, o.d.now())
			if _, err := o.d.store.PartSent(context.WithoutCancel(ctx), m.ID, p.Seq, mr); err != nil {
				log.Error("record sent part", "err", err)
			}
			o.update(func(s *ModemStatus) { s.Sent++ })
			continue
		}
		o.update(func(s *ModemStatus) { s.SendFailures++; s.LastError = err.Error() })
		info := errorInfo(err)
		if errors.Is(err, atcmd.ErrOutcomeUnknown) {
			log.Warn("send outcome unknown; not retrying", "err", err)
			o.d.store.PartUnknown(context.WithoutCancel(ctx), m.ID, p.Seq, info, o.d.cfg.Send.AtLeastOnce)
			return sentAt, true
		}
		retryAt := time.Time{}
		if !permanent(err) && full.Attempts+1 < o.d.cfg.Send.MaxAttempts {
			retryAt = o.d.now().Add(backoff(o.d.cfg.Send.RetryBackoff, o.d.cfg.Send.RetryBackoffMax, full.Attempts))
		}
		log.Info("send failed before the message went out", "err", err, "retry", !retryAt.IsZero())
		if upd, err := o.d.store.PartNotSent(context.WithoutCancel(ctx), m.ID, p.Seq, info, retryAt); err == nil && upd.State == store.Queued {
			o.d.sched.Enqueue(upd)
		}
		return sentAt, true
	}
	return sentAt, false
}

// registered asks the modem whether it is on a network (home or roaming).
func (o *owner) registered(ctx context.Context, eng *atcmd.Engine) bool {
	lines, err := eng.Exec(ctx, "AT+CREG?")
	if err != nil || len(lines) == 0 {
		return false
	}
	reg, err := atcmd.ParseRegistration(lines[0])
	return err == nil && (reg.Stat == 1 || reg.Stat == 5)
}

func (o *owner) setSIMState(state string) {
	o.update(func(s *ModemStatus) { s.SIMState = state })
}

// resumeLane lets a modem whose SIM was suspect take work again.
func (d *Daemon) resumeLane(modemID string) {
	if o := d.ownerOf(modemID); o != nil {
		o.setSIMState(store.SIMActive)
	}
	d.sched.Unpause(modemID, "suspect")
}

func (o *owner) requeueLater(ctx context.Context, id string) {
	if m, err := o.d.store.GetMessage(ctx, id); err == nil && m.State == store.Queued {
		m.NextAttempt = o.d.now().Add(o.d.cfg.Send.RetryBackoff)
		o.d.sched.Enqueue(m)
	}
}

func parseCMGS(lines []string) (int, error) {
	for _, l := range lines {
		if mr, err := atcmd.ParseCMGS(l); err == nil {
			return mr, nil
		}
	}
	return -1, errors.New("no +CMGS line")
}

// permanent tells failures that no retry can cure for this message.
func permanent(err error) bool {
	var cms *atcmd.CMSError
	if errors.As(err, &cms) {
		return cms.Permanent()
	}
	return false
}

// errorInfo keeps the modem's own code visible to the API user.
func errorInfo(err error) store.ErrorInfo {
	var cms *atcmd.CMSError
	var cme *atcmd.CMEError
	switch {
	case errors.Is(err, atcmd.ErrOutcomeUnknown):
		return store.ErrorInfo{Code: "outcome_unknown", Message: err.Error()}
	case errors.As(err, &cms):
		return store.ErrorInfo{Code: "CMS " + strconv.Itoa(cms.Code), Message: cms.Error()}
	case errors.As(err, &cme):
		return store.ErrorInfo{Code: "CME " + strconv.Itoa(cme.Code), Message: cme.Error()}
	case errors.Is(err, atcmd.ErrTimeout):
		return store.ErrorInfo{Code: "timeout", Message: err.Error()}
	case errors.Is(err, atcmd.ErrPortLost), errors.Is(err, atcmd.ErrHung):
		return store.ErrorInfo{Code: "port_lost", Message: err.Error()}
	}
	return store.ErrorInfo{Code: "error", Message: err.Error()}
}

func backoff(first, max time.Duration, attempt int) time.Duration {
	d := first
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
