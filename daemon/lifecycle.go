package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/internal/work"
	"github.com/gsmbridge/gsmbridge/sms"
)

// A modem's life, as its owner runs it:
//
//	probing → ready ⇄ degraded → resetting → (ready | gone)
//
// plus the states no reset can cure — sim_missing, sim_locked, reg_denied,
// no_service — in which the modem takes no work and is re-checked within
// the idle command budget, but never reset: resetting a modem because its
// SIM is blocked only hides the real problem behind a reset storm.
//
// Escalation happens only when the modem stops answering: set it up again,
// then AT+CFUN=0/1 (a radio restart), then close and reopen the port, then
// raise the alarm; each step waits longer than the one before.

// Escalation steps, in order.
const (
	stepReinit = "reinit"
	stepCFUN   = "cfun"
	stepReopen = "reopen"
	stepAlert  = "alert"
)

var escalationSteps = []string{stepReinit, stepCFUN, stepReopen, stepAlert}

// errUnresponsive ends serve when the modem stopped answering commands.
var errUnresponsive = errors.New("modem stopped answering")

// errRebooted ends serve when the modem announced a reboot.
var errRebooted = errors.New("modem rebooted")

// condition is a state no reset cures.
type condition struct {
	state  ModemState
	reason string
}

func (c *condition) Error() string { return string(c.state) + ": " + c.reason }

// run keeps the modem in service until ctx ends.
func (o *owner) run(ctx context.Context) {
	o.probes.restart(o.d.now())
	for ctx.Err() == nil {
		err := o.session(ctx)
		if ctx.Err() != nil {
			return
		}
		o.log.Warn("modem session ended", "err", err)
		o.setState(StateGone, err.Error())
		wait := o.backoff()
		step := stepReopen
		if o.escalation == slices.Index(escalationSteps, stepReopen)+1 && wait == o.d.reopenMax {
			// Reopening the port did not help, however long the waits
			// between tries grew. Not sooner: a modem being unplugged fails
			// a reopen or two before USB discovery retires it. The alarm
			// is raised once per episode; the tries after it are reopens.
			step = stepAlert
		}
		o.escalate(step)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		o.update(func(s *ModemStatus) { s.Reconnects++ })
	}
}

// escalate records an escalation step and moves the owner's level to it.
func (o *owner) escalate(step string) {
	for i, s := range escalationSteps {
		if s == step {
			o.escalation = max(o.escalation, i+1)
		}
	}
	o.update(func(s *ModemStatus) { s.Resets[step]++ })
	if step == stepAlert {
		o.log.Error("modem does not recover by itself; it needs a person (replug, power-cycle the hub port)", "port", o.port)
		o.announce("modem.alert")
	}
}

// backoff grows with the escalation level and the number of failed tries.
func (o *owner) backoff() time.Duration {
	d := o.d.reopenMin << min(o.failures, 10)
	o.failures++
	return min(d, o.d.reopenMax)
}

// session runs one connection to the modem: open, then serve it, starting
// over on the same port after a reboot and walking up the escalation steps
// when it stops answering.
func (o *owner) session(ctx context.Context) error {
	o.setState(StateProbing, "")
	port, err := o.d.open(o.port, o.cfg)
	if err != nil {
		return fmt.Errorf("open %s: %w", o.port, err)
	}
	o.modem = gsm.Open(port, gsm.Options{Logger: o.log, Timeout: o.d.atTimeout,
		Observe: func(cmd, result string, took time.Duration) {
			o.probes.sent.Add(1)
			o.d.metrics.atCommand(o.snapshot().ID, cmd, result, took)
		}})
	defer func(m *gsm.Modem) {
		o.modem = nil
		m.Close()
		port.Close()
	}(o.modem)
	// Subscribed once for the session: what the modem said during set-up
	// or while held is read by whichever of serve and hold runs next.
	events, unsubscribe := o.modem.Events()
	defer unsubscribe()
	for {
		err := o.serve(ctx, events)
		var cond *condition
		if errors.As(err, &cond) {
			err = o.hold(ctx, events, cond)
		}
		switch {
		case errors.Is(err, errRebooted):
			o.setState(StateProbing, "")
		case errors.Is(err, errUnresponsive) || errors.Is(err, gsm.ErrTimeout):
			if o.escalation > 0 {
				// Set-up, and a radio restart where the modem still took
				// one, did not help: the port goes.
				return err
			}
			o.setState(StateResetting, err.Error())
			o.escalate(stepReinit)
			if o.cfunRestart(ctx) {
				o.escalate(stepCFUN)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(o.backoff()):
			}
		default:
			return err
		}
	}
}

// cfunRestart restarts the radio (AT+CFUN=0 then 1). It reports whether it
// was tried at all: a modem that answers nothing cannot even take that. A
// radio left off by a half-done restart is switched on again by init.
func (o *owner) cfunRestart(ctx context.Context) bool {
	cctx, cancel := context.WithTimeout(ctx, 2*o.d.atTimeout)
	defer cancel()
	return o.modem.RestartRadio(cctx)
}

// radioOn switches the radio on when something left it off (a radio restart
// cut short, a previous host, a person with minicom).
func (o *owner) radioOn(ctx context.Context) {
	if wasOff, _ := o.modem.RadioOn(ctx); wasOff {
		o.log.Warn("the modem's radio was off; switched it on")
	}
}

// serve initialises the modem and serves it until the engine stops, ctx
// ends, the modem reboots, stops answering, or meets a *condition (returned
// after its lane is gone, so no work waits on a modem that cannot do it).
func (o *owner) serve(ctx context.Context, events <-chan gsm.Event) error {
	id, sim, err := o.init(ctx)
	if err != nil {
		return err
	}
	o.modem.Quiet(ctx)
	rs, err := o.setupReceive(ctx)
	if err != nil {
		return err
	}
	if err := o.sweep(ctx, &rs); err != nil {
		o.log.Warn("start-up sweep of the modem's storage", "err", err)
	}
	jobs, err := o.d.work.Open(ctx, work.Lane{Modem: id, SIM: sim, Log: o.log})
	if err != nil {
		return err
	}
	defer o.d.work.Close(id)
	o.setState(StateReady, "")
	o.escalation, o.failures = 0, 0
	o.probes.restart(o.d.now())
	o.heldFor = ""
	o.announce("modem.up")
	defer func() {
		if ctx.Err() == nil {
			o.setState(StateGone, "")
			o.announce("modem.down")
		}
	}()
	o.log.Info("modem ready", "modem", id, "operator", sim.PLMN, "storage", rs.Mem, "indications", rs.CNMI)

	poll := time.NewTicker(o.d.cfg.Receive.PollInterval)
	defer poll.Stop()
	// The check is due once the modem has been quiet for idleCheck; a
	// ticker of that period would find the modem quiet a hair too short at
	// every other tick (the last check itself reset the quiet time) and
	// check at twice the period configured.
	idleCheck := o.d.cfg.Health.IdleCheckAfter
	health := time.NewTimer(idleCheck)
	defer health.Stop()
	lastTraffic := o.d.now()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-o.modem.Done():
			return o.modem.Err()
		case job := <-jobs:
			r := job.Run(ctx, o.modem)
			lastTraffic = o.d.now()
			o.update(func(s *ModemStatus) {
				s.Sent += uint64(r.Parts)
				if r.Failure != nil {
					s.SendFailures++
					s.LastError = r.Failure.Error()
				}
			})
			if r.SIMState != "" {
				o.setSIMState(r.SIMState)
			}
			if r.Err != nil && !o.stillAnswers(ctx, id) {
				return errUnresponsive
			}
		case c := <-o.calls:
			// The work ends with the caller's context or the owner's,
			// whichever ends first.
			cctx, cancel := context.WithCancel(c.ctx)
			stop := context.AfterFunc(ctx, cancel)
			c.done <- c.fn(cctx, o.modem)
			stop()
			cancel()
			lastTraffic = o.d.now()
		case <-health.C:
			// Health comes from checks on an idle modem only, so a busy
			// modem spends its commands on sending.
			if quiet := o.d.now().Sub(lastTraffic); quiet < idleCheck {
				health.Reset(idleCheck - quiet)
				continue
			}
			o.retryUnstored(ctx)
			if err := o.healthCheck(ctx, id, rs.CNMIReport); err != nil {
				return err
			}
			health.Reset(idleCheck)
		case <-poll.C:
			o.retryUnstored(ctx)
			if err := o.sweep(ctx, &rs); err != nil {
				o.log.Warn("storage poll", "err", err)
				if !o.stillAnswers(ctx, id) {
					return errUnresponsive
				}
			}
		case ev, ok := <-events:
			if !ok {
				return o.modem.Err()
			}
			if r, ok := ev.(gsm.Rebooted); ok {
				o.log.Warn("modem rebooted by itself; setting it up again", "line", r.Line)
				return errRebooted
			}
			lastTraffic = o.d.now()
			if c := registrationCondition(ev); c != nil {
				return o.simOr(ctx, c)
			}
			if err := o.indication(ctx, &rs, ev); err != nil {
				return err
			}
		}
	}
}

// stillAnswers probes a modem after a command went unanswered. While it
// probes, the modem is degraded and takes no work.
func (o *owner) stillAnswers(ctx context.Context, id string) bool {
	o.setState(StateDegraded, "")
	o.d.work.Hold(id, "degraded", true)
	defer o.d.work.Hold(id, "degraded", false)
	for try := 0; try < 2; try++ {
		if err := o.modem.Ping(ctx); err == nil {
			o.setState(StateReady, "")
			return true
		}
	}
	return false
}

// registrationCondition turns a report of a denied or lost registration
// into the condition it means.
func registrationCondition(ev gsm.Event) *condition {
	r, ok := ev.(gsm.RegistrationChanged)
	if !ok || !r.Readable {
		return nil
	}
	switch r.Registration.Stat {
	case 3:
		return &condition{StateRegDenied, "the network denied registration (SIM blocked or not provisioned)"}
	case 0:
		return &condition{StateNoService, "not registered and not searching"}
	}
	return nil
}

// simOr explains a registration lost while serving: a pulled SIM shows as
// lost registration first, and "SIM missing" is what the person at the rack
// must be told, not "no service".
func (o *owner) simOr(ctx context.Context, lost *condition) error {
	if c, err := o.checkSIM(ctx); err == nil && c != nil {
		return c
	}
	return lost
}

// hold keeps a modem whose problem no reset can cure out of work, re-checking
// it within the idle command budget until the problem clears (serve then
// starts over) or the modem goes away. It never escalates.
func (o *owner) hold(ctx context.Context, events <-chan gsm.Event, c *condition) error {
	// A re-check that passes can end in the same condition again (the
	// SIM answers AT+CPIN? but not AT+CIMI): said once, not at every turn.
	o.setState(c.state, c.reason)
	if o.heldFor != c.Error() {
		o.log.Warn("modem cannot work until this is fixed", "state", c.state, "reason", c.reason)
		o.heldFor = c.Error()
		o.announce("modem." + string(c.state))
	} else {
		o.log.Debug("modem still cannot work", "state", c.state, "reason", c.reason)
	}
	o.escalation, o.failures = 0, 0
	recheck := time.NewTimer(o.recheckWait())
	defer recheck.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-o.modem.Done():
			return o.modem.Err()
		case c := <-o.calls:
			c.done <- fmt.Errorf("modem is %s: %w", o.snapshot().State, ErrModemNotReady)
		case ev, ok := <-events:
			if !ok {
				return o.modem.Err()
			}
			if _, ok := ev.(gsm.Rebooted); ok {
				return errRebooted
			}
			// Registration and SIM reports may say the problem cleared. A
			// storm of them costs no more than the budget: over it, the
			// re-check waits until the budget allows.
			switch ev.(type) {
			case gsm.RegistrationChanged, gsm.SIMChanged:
				if wait := o.overBudget(); wait > 0 && !registeredNow(ev, c) {
					recheck.Reset(wait)
					continue
				}
				if cleared, err := o.conditionCleared(ctx, c); err != nil || cleared {
					return errRebooted // start over: identity and settings
				}
			}
		case <-recheck.C:
			cleared, err := o.conditionCleared(ctx, c)
			if err != nil {
				return err
			}
			if cleared {
				return errRebooted
			}
			recheck.Reset(o.recheckWait())
		}
	}
}

// recheckWait is how long a held modem waits for its next re-check: the
// idle check period, or longer while the commands it cost since it last
// worked exceed the idle command budget.
func (o *owner) recheckWait() time.Duration {
	h := o.d.cfg.Health
	return o.probes.wait(o.d.now(), h.IdleCheckAfter, o.d.budgetWindow, h.CommandsPerMinute)
}

// registeredNow reports a report of a registration that clears the
// registration condition c: the modem's own word, worth a re-check at once
// whatever the budget.
func registeredNow(ev gsm.Event, c *condition) bool {
	if c.state != StateRegDenied && c.state != StateNoService {
		return false
	}
	r, ok := ev.(gsm.RegistrationChanged)
	return ok && r.Readable && (r.Registration.Stat == 1 || r.Registration.Stat == 5)
}

// overBudget is how long until the commands a held modem cost fit the
// budget; 0 when they do.
func (o *owner) overBudget() time.Duration {
	return o.probes.wait(o.d.now(), 0, o.d.budgetWindow, o.d.cfg.Health.CommandsPerMinute)
}

// conditionCleared re-checks what held the modem.
func (o *owner) conditionCleared(ctx context.Context, c *condition) (bool, error) {
	switch c.state {
	case StateSIMMissing, StateSIMLocked:
		next, err := o.checkSIM(ctx)
		if err != nil {
			return false, err
		}
		return next == nil, nil
	default:
		next, err := o.checkRegistration(ctx)
		if err != nil {
			return false, err
		}
		return next == nil, nil
	}
}

// healthCheck runs on an idle modem: it confirms the indication settings are
// still in place (a modem that reset without announcing it has forgotten
// them, and receiving would stop without a word), that the modem is still
// registered, and refreshes the signal.
func (o *owner) healthCheck(ctx context.Context, id, want string) error {
	got, err := o.modem.Indications(ctx)
	switch {
	case errors.Is(err, gsm.ErrPortLost) || errors.Is(err, gsm.ErrHung):
		return err
	case errors.Is(err, gsm.ErrTimeout) && !o.stillAnswers(ctx, id):
		return errUnresponsive
	case err != nil || got == "":
		// The modem cannot tell; registration is still worth checking.
		o.log.Debug("health check: no indication settings to compare", "err", err)
	case got != want:
		// A reset nobody announced can come with another SIM in the slot
		// (a tester swapping SIMs power-cycles the modem), so the modem is
		// set up from its identity on, as after an announced reboot.
		o.log.Warn("the modem lost its new-message indication settings, so it reset; setting it up again", "had", got, "want", want)
		return errRebooted
	}
	if c, err := o.checkRegistration(ctx); err == nil && c != nil {
		return o.simOr(ctx, c)
	}
	o.refreshSignal(ctx)
	return nil
}

// settle applies the basic settings, waiting out the "SIM busy" and
// half-booted answers modems give for a few seconds after power-up.
func (o *owner) settle(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		if err = o.modem.Prepare(ctx); err == nil {
			return nil
		}
		if errors.Is(err, gsm.ErrPortLost) || errors.Is(err, gsm.ErrHung) || errors.Is(err, gsm.ErrClosed) ||
			errors.Is(err, gsm.ErrTimeout) {
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

// checkSIM asks whether the SIM is there and open, entering the configured
// PIN once per insertion and only while all three attempts are left: a
// wrong PIN in the config must never lock the SIM into PUK.
func (o *owner) checkSIM(ctx context.Context) (*condition, error) {
	st, err := o.modem.SIM(ctx)
	if err != nil {
		return nil, err
	}
	switch st.State {
	case gsm.SIMReady:
		return nil, nil
	case gsm.SIMMissing, gsm.SIMWrong:
		o.pinTried = false // a new insertion may come
		return &condition{StateSIMMissing, st.Detail}, nil
	case gsm.SIMBusy:
		return &condition{StateSIMMissing, "SIM busy"}, nil
	case gsm.SIMNeedsPIN:
		if o.pin == "" {
			return &condition{StateSIMLocked, "the SIM needs its PIN and none is configured"}, nil
		}
		if o.pinTried {
			return &condition{StateSIMLocked, "the configured PIN was tried once already for this SIM; not trying again"}, nil
		}
		left := o.modem.PINAttemptsLeft(ctx)
		if left != 3 {
			return &condition{StateSIMLocked, fmt.Sprintf("the SIM has %s PIN attempts left; gsmbridge only tries its PIN with all 3 left", attemptsText(left))}, nil
		}
		o.pinTried = true
		if err := o.modem.EnterPIN(ctx, o.pin); err != nil {
			return &condition{StateSIMLocked, "the configured PIN was refused: " + err.Error()}, nil
		}
		o.log.Info("SIM unlocked with the configured PIN")
		return nil, nil
	default:
		return &condition{StateSIMLocked, "the SIM wants " + st.Detail}, nil
	}
}

func attemptsText(n int) string {
	if n < 0 {
		return "an unknown number of"
	}
	return fmt.Sprint(n)
}

// checkRegistration turns the modem's registration into a condition when it
// cannot work. Searching is given time: right after boot a modem searches
// for a few seconds. The polls space out to the idle budget's pace, so a
// modem without coverage does not spend two commands a second searching.
func (o *owner) checkRegistration(ctx context.Context) (*condition, error) {
	deadline := o.d.now().Add(o.d.cfg.Health.IdleCheckAfter)
	pause, slowest := o.d.reopenMin, o.d.budgetWindow/time.Duration(max(o.d.cfg.Health.CommandsPerMinute, 1))
	for {
		reg, err := o.modem.Registration(ctx)
		if err != nil {
			var cme *gsm.CMEError
			if errors.As(err, &cme) || errors.Is(err, gsm.ErrUnreadable) {
				return nil, nil // the modem cannot say; sends will tell
			}
			return nil, err
		}
		o.update(func(s *ModemStatus) { s.Registration = registrationName(reg.Stat) })
		switch reg.Stat {
		case 1, 5:
			return nil, nil
		case 3:
			return &condition{StateRegDenied, "the network denied registration (SIM blocked or not provisioned)"}, nil
		}
		if !o.d.now().Before(deadline) {
			return &condition{StateNoService, "not registered on any network"}, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = max(min(2*pause, slowest), o.d.reopenMin)
	}
}

func registrationName(stat int) string {
	switch stat {
	case 0:
		return "not_registered"
	case 1:
		return "home"
	case 2:
		return "searching"
	case 3:
		return "denied"
	case 5:
		return "roaming"
	}
	return "unknown"
}

// init brings the modem to a known state and learns who it and its SIM are.
// A missing or locked SIM or a denied registration comes back as a
// *condition.
func (o *owner) init(ctx context.Context) (string, store.SIM, error) {
	if err := o.settle(ctx); err != nil {
		return "", store.SIM{}, err
	}
	o.radioOn(ctx)
	if c, err := o.checkSIM(ctx); err != nil || c != nil {
		if err == nil {
			o.identifyModemOnly(ctx)
			return "", store.SIM{}, c
		}
		return "", store.SIM{}, err
	}
	ident, err := o.modem.Identity(ctx)
	if err != nil {
		return "", store.SIM{}, fmt.Errorf("identity: %w", err)
	}
	id, err := o.recordModem(ctx, ident)
	if err != nil {
		return "", store.SIM{}, err
	}
	key, c := simKey(ident)
	if c != nil {
		return "", store.SIM{}, c
	}
	plmn, opName := "", ""
	if p, ok := o.d.operators.ForIMSI(ident.IMSI); ok {
		plmn, opName = p.PLMN[0], p.Name
		for _, candidate := range p.PLMN {
			if strings.HasPrefix(ident.IMSI, candidate) {
				plmn = candidate
			}
		}
	}
	msisdn := ident.OwnNumber
	smsc := ident.SMSC
	if ov, ok := o.d.operators.SIM(key, ident.IMSI); ok {
		if ov.MSISDN != "" {
			msisdn = ov.MSISDN
		}
		if ov.SMSC != "" {
			smsc = ov.SMSC
		}
	}
	sim, previous, err := o.d.store.Devices.SaveSIM(ctx, store.SIM{ICCID: key, IMSI: ident.IMSI, MSISDN: msisdn,
		PLMN: plmn, SMSC: smsc, ModemID: id})
	if err != nil {
		return "", store.SIM{}, err
	}
	if previous != "" && previous != sim.ICCID {
		o.log.Warn("the SIM in this modem was swapped", "modem", id, "previous", sms.MaskDigits(previous), "iccid", sms.MaskDigits(sim.ICCID))
	}
	if sim.IDSource == store.IDSourceIMSI {
		o.log.Info("the modem does not give the SIM's ICCID; the SIM is known by its IMSI until it does", "modem", id, "sim", sms.MaskDigits(sim.ICCID))
	}
	o.update(func(s *ModemStatus) {
		s.ICCID, s.SIMIDSource = sim.ICCID, sim.IDSource
		s.Operator = Operator{PLMN: plmn, Name: opName}
		s.MSISDN = sim.MSISDN
		s.SIMState = sim.State
	})
	if c, err := o.checkRegistration(ctx); err != nil || c != nil {
		if err != nil {
			return "", store.SIM{}, err
		}
		return "", store.SIM{}, c
	}
	o.refreshSignal(ctx)
	return id, sim, nil
}

// simKey is what the store keys the SIM by: its ICCID, or its IMSI when
// the modem gives no ICCID (neutral 27.007 firmware answers neither AT+CRSM
// nor AT+CCID; gammu and smstools work with it, so must we). A SIM without
// an IMSI has no operator, so no limits or balance code: it stays out.
func simKey(ident gsm.Identity) (string, *condition) {
	switch {
	case ident.IMSI == "" && ident.ICCID == "":
		return "", &condition{StateSIMMissing, "the SIM gives neither its ICCID nor its IMSI (AT+CIMI)"}
	case ident.IMSI == "":
		return "", &condition{StateSIMMissing, "the SIM gives no IMSI (AT+CIMI), so its operator is unknown"}
	case ident.ICCID == "":
		return store.IMSIKey(ident.IMSI), nil
	}
	return ident.ICCID, nil
}

// identifyModemOnly reads what the modem says of itself when its SIM cannot
// be used, so the API can still name it.
func (o *owner) identifyModemOnly(ctx context.Context) {
	ident, err := o.modem.Identity(ctx)
	if err != nil {
		return
	}
	ident.ICCID, ident.IMSI = "", ""
	o.recordModem(ctx, ident)
}

// recordModem gives the modem its id and remembers it.
func (o *owner) recordModem(ctx context.Context, ident gsm.Identity) (string, error) {
	id := o.d.claimModemID(o, ident.IMEI, o.port)
	o.update(func(s *ModemStatus) {
		s.ID, s.Manufacturer, s.Model, s.Revision = id, ident.Manufacturer, ident.Model, ident.Revision
		s.IMEI, s.ICCID, s.IMSI, s.MSISDN = ident.IMEI, ident.ICCID, ident.IMSI, ident.OwnNumber
		s.SIMIDSource = ""
	})
	_, err := o.d.store.Devices.SaveModem(ctx, store.Modem{ID: id, IMEI: ident.IMEI, Port: o.port, Name: o.name,
		Manufacturer: ident.Manufacturer, Model: ident.Model, Revision: ident.Revision, ICCID: ident.ICCID})
	return id, err
}
