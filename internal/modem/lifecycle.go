package modem

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/work"
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

// Escalation steps, in order (api.EscalationSteps).
const (
	stepReinit = api.StepReinit
	stepCFUN   = api.StepCFUN
	stepReopen = api.StepReopen
	stepAlert  = api.StepAlert
)

var escalationSteps = api.EscalationSteps

// errUnresponsive ends serve when the modem stopped answering commands.
var errUnresponsive = errors.New("modem stopped answering")

// errRebooted ends serve or hold when the modem must be set up again from
// the start: it rebooted (errAnnouncedReboot), reset unannounced, or a
// condition that held it cleared.
var errRebooted = errors.New("modem rebooted")

// answered tells a reboot the last set-up already answered: announced
// before that set-up began, as the rest of a start-up's burst is once its
// first line started the set-up again. Setting the modem up once more for
// it would cost a dozen commands and answer nothing new.
func (o *owner) answered(r gsm.Rebooted) bool {
	return !r.At.IsZero() && r.At.Before(o.setUpAt)
}

// run keeps the modem in service until ctx ends.
func (o *owner) run(ctx context.Context) {
	o.probes.restart(o.p.now())
	for ctx.Err() == nil {
		err := o.session(ctx)
		if ctx.Err() != nil {
			return
		}
		o.log.Warn("modem session ended", "err", err)
		o.setState(api.ModemGone, err.Error())
		wait := o.backoff()
		step := stepReopen
		if o.escalation == slices.Index(escalationSteps, stepReopen)+1 && wait == o.p.reopenMax {
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
		o.update(func(s *api.Modem) { s.Reconnects++ })
	}
}

// escalate records an escalation step and moves the owner's level to it.
func (o *owner) escalate(step string) {
	for i, s := range escalationSteps {
		if s == step {
			o.escalation = max(o.escalation, i+1)
		}
	}
	o.update(func(s *api.Modem) { s.Resets[step]++ })
	if step == stepAlert {
		o.log.Error("modem does not recover by itself; it needs a person (replug, power-cycle the hub port)", "port", o.port)
		o.announce("modem.alert")
	}
}

// backoff grows with the escalation level and the number of failed tries.
func (o *owner) backoff() time.Duration {
	d := o.p.reopenMin << min(o.failures, 10)
	o.failures++
	return min(d, o.p.reopenMax)
}

// session runs one connection to the modem: open, then serve it, starting
// over on the same port after a reboot and walking up the escalation steps
// when it stops answering.
func (o *owner) session(ctx context.Context) error {
	o.setState(api.ModemProbing, "")
	port, err := o.p.open(o.port, o.cfg)
	if err != nil {
		return fmt.Errorf("open %s: %w", o.port, err)
	}
	o.modem = gsm.Open(port, gsm.Options{Logger: o.log, Timeout: o.p.atTimeout,
		Observe: func(cmd, result string, took time.Duration) {
			o.probes.sent.Add(1)
			o.p.metrics.atCommand(o.snapshot().ID, cmd, result, took)
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
		case errors.Is(err, errAnnouncedReboot) || errors.Is(err, gsm.ErrReboot):
			// A reboot that cut a command of the set-up short is one
			// too: the port is fine, and the set-up is paced alike.
			if err := paceReboot(ctx, o); err != nil {
				return err
			}
		case errors.Is(err, errRebooted):
			o.setState(api.ModemProbing, "")
		case (errors.Is(err, errUnresponsive) || errors.Is(err, gsm.ErrTimeout)) && o.modem.Err() != nil:
			// What went unanswered met a lost port or a hung write: no
			// set-up or radio restart can reach the modem, and it did
			// not stop answering; the port is reopened.
			return o.modem.Err()
		case errors.Is(err, errUnresponsive) || errors.Is(err, gsm.ErrTimeout):
			if o.escalation > 0 {
				// Set-up, and a radio restart where the modem still took
				// one, did not help: the port goes.
				return err
			}
			o.setState(api.ModemResetting, err.Error())
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
	cctx, cancel := context.WithTimeout(ctx, 2*o.p.atTimeout)
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
	o.setUpAt = time.Now()
	id, sim, err := o.init(ctx)
	if err != nil {
		return err
	}
	o.modem.Quiet(ctx)
	rx := o.reception()
	if err := rx.setup(ctx); err != nil {
		return err
	}
	if err := rx.sweep(ctx); err != nil {
		o.log.Warn("start-up sweep of the modem's storage", "err", err)
	}
	jobs, err := o.p.work.Open(ctx, work.Lane{Modem: id, SIM: sim, Log: o.log})
	if err != nil {
		return err
	}
	defer o.p.work.Close(id)
	o.setState(api.ModemReady, "")
	o.escalation, o.failures = 0, 0
	o.probes.restart(o.p.now())
	o.heldFor = ""
	o.announce("modem.up")
	defer func() {
		if ctx.Err() == nil {
			o.setState(api.ModemGone, "")
			o.announce("modem.down")
		}
	}()
	o.log.Info("modem ready", "modem", id, "operator", sim.PLMN, "storage", rx.rs.Mem, "indications", rx.rs.CNMI)

	poll := time.NewTicker(o.p.pollInterval)
	defer poll.Stop()
	// The check is due once the modem has been quiet for idleCheck; a
	// ticker of that period would find the modem quiet a hair too short at
	// every other tick (the last check itself reset the quiet time) and
	// check at twice the period configured.
	idleCheck := o.p.health.IdleCheckAfter
	health := time.NewTimer(idleCheck)
	defer health.Stop()
	lastTraffic := o.p.now()
	var unread <-chan time.Time // armed while an announced message waits unread
	unreadWait := unreadRetry
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-o.modem.Done():
			return o.modem.Err()
		case job := <-jobs:
			r := job.Run(ctx, o.modem)
			lastTraffic = o.p.now()
			o.update(func(s *api.Modem) {
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
			lastTraffic = o.p.now()
		case <-health.C:
			// Health comes from checks on an idle modem only, so a busy
			// modem spends its commands on sending.
			if quiet := o.p.now().Sub(lastTraffic); quiet < idleCheck {
				health.Reset(idleCheck - quiet)
				continue
			}
			rx.retryUnstored(ctx)
			if err := o.healthCheck(ctx, id, rx.rs.CNMIReport); err != nil {
				return err
			}
			health.Reset(idleCheck)
		case <-poll.C:
			rx.retryUnstored(ctx)
			if err := rx.sweep(ctx); err != nil {
				o.log.Warn("storage poll", "err", err)
				if !o.stillAnswers(ctx, id) {
					return errUnresponsive
				}
			}
		case <-o.sweeps.asked:
			// A payment's deadline rule waits for this sweep. A sweep
			// waiting out its backoff answers it instead: sweeping more
			// often is the heavy storage polling that hangs some modems.
			if unread != nil || !o.sweeps.owed() {
				continue
			}
			if err := rx.sweep(ctx); err != nil {
				rx.unread = true
				o.log.Warn("sweep asked for", "err", err)
				if !o.stillAnswers(ctx, id) {
					return errUnresponsive
				}
			}
		case <-unread:
			unread = nil
			if err := rx.sweep(ctx); err != nil {
				// Heavy storage polling is what hangs some modems.
				unreadWait = min(2*unreadWait, o.p.pollInterval)
				o.log.Warn("sweep for a message that could not be read", "err", err, "again_in", unreadWait)
				if !o.stillAnswers(ctx, id) {
					return errUnresponsive
				}
			}
		case ev, ok := <-events:
			if !ok {
				return o.modem.Err()
			}
			if r, ok := ev.(gsm.Rebooted); ok {
				if o.answered(r) {
					continue
				}
				o.log.Warn("modem rebooted by itself; setting it up again", "line", r.Line)
				return errAnnouncedReboot
			}
			lastTraffic = o.p.now()
			if c := registrationCondition(ev); c != nil {
				return o.simOr(ctx, c)
			}
			if err := rx.indication(ctx, ev); err != nil {
				return err
			}
		}
		switch {
		case !rx.unread:
			unreadWait = unreadRetry
		case unread == nil:
			unread = time.After(unreadWait)
		}
	}
}

// unreadRetry is how soon the owner sweeps the storage for a message whose
// announced read failed: long enough for a SIM busy for a moment, well
// inside a payment's expiry grace. A sweep that fails too waits twice as
// long each time, up to the poll interval.
const unreadRetry = time.Second

// stillAnswers probes a modem after a command went unanswered. While it
// probes, the modem is degraded and takes no work.
func (o *owner) stillAnswers(ctx context.Context, id string) bool {
	o.setState(api.ModemDegraded, "")
	o.p.work.Hold(id, "degraded", true)
	defer o.p.work.Hold(id, "degraded", false)
	for try := 0; try < 2; try++ {
		if err := o.modem.Ping(ctx); err == nil {
			o.setState(api.ModemReady, "")
			return true
		}
	}
	return false
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
