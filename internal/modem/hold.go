package modem

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/gsm"
)

// condition is a state no reset cures.
type condition struct {
	state  api.ModemState
	reason string
}

func (c *condition) Error() string { return string(c.state) + ": " + c.reason }

// registrationCondition turns a report of a denied or lost registration
// into the condition it means.
func registrationCondition(ev gsm.Event) *condition {
	r, ok := ev.(gsm.RegistrationChanged)
	if !ok || !r.Readable {
		return nil
	}
	switch r.Registration.Stat {
	case 3:
		return &condition{api.ModemRegDenied, "the network denied registration (SIM blocked or not provisioned)"}
	case 0:
		return &condition{api.ModemNoService, "not registered and not searching"}
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
			c.done <- notReady(o)
		case ev, ok := <-events:
			if !ok {
				return o.modem.Err()
			}
			if r, ok := ev.(gsm.Rebooted); ok && !o.answered(r) {
				return errAnnouncedReboot
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
	h := o.p.health
	return o.probes.wait(o.p.now(), h.IdleCheckAfter, o.p.budgetWindow, h.CommandsPerMinute)
}

// registeredNow reports a report of a registration that clears the
// registration condition c: the modem's own word, worth a re-check at once
// whatever the budget.
func registeredNow(ev gsm.Event, c *condition) bool {
	if c.state != api.ModemRegDenied && c.state != api.ModemNoService {
		return false
	}
	r, ok := ev.(gsm.RegistrationChanged)
	return ok && r.Readable && (r.Registration.Stat == 1 || r.Registration.Stat == 5)
}

// overBudget is how long until the commands a held modem cost fit the
// budget; 0 when they do.
func (o *owner) overBudget() time.Duration {
	return o.probes.wait(o.p.now(), 0, o.p.budgetWindow, o.p.health.CommandsPerMinute)
}

// conditionCleared re-checks what held the modem.
func (o *owner) conditionCleared(ctx context.Context, c *condition) (bool, error) {
	switch c.state {
	case api.ModemSIMMissing, api.ModemSIMLocked:
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
		return &condition{api.ModemSIMMissing, st.Detail}, nil
	case gsm.SIMBusy:
		return &condition{api.ModemSIMMissing, "SIM busy"}, nil
	case gsm.SIMNeedsPIN:
		if o.pin == "" {
			return &condition{api.ModemSIMLocked, "the SIM needs its PIN and none is configured"}, nil
		}
		if o.pinTried {
			return &condition{api.ModemSIMLocked, "the configured PIN was tried once already for this SIM; not trying again"}, nil
		}
		left := o.modem.PINAttemptsLeft(ctx)
		if left != 3 {
			return &condition{api.ModemSIMLocked, fmt.Sprintf("the SIM has %s PIN attempts left; gsmbridge only tries its PIN with all 3 left", attemptsText(left))}, nil
		}
		o.pinTried = true
		if err := o.modem.EnterPIN(ctx, o.pin); err != nil {
			return &condition{api.ModemSIMLocked, "the configured PIN was refused: " + err.Error()}, nil
		}
		o.log.Info("SIM unlocked with the configured PIN")
		return nil, nil
	default:
		return &condition{api.ModemSIMLocked, "the SIM wants " + st.Detail}, nil
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
	deadline := o.p.now().Add(o.p.health.IdleCheckAfter)
	pause, slowest := o.p.reopenMin, o.p.budgetWindow/time.Duration(max(o.p.health.CommandsPerMinute, 1))
	for {
		reg, err := o.modem.Registration(ctx)
		if err != nil {
			var cme *gsm.CMEError
			if errors.As(err, &cme) || errors.Is(err, gsm.ErrUnreadable) {
				return nil, nil // the modem cannot say; sends will tell
			}
			return nil, err
		}
		o.update(func(s *api.Modem) { s.Registration = registrationName(reg.Stat) })
		switch reg.Stat {
		case 1, 5:
			return nil, nil
		case 3:
			return &condition{api.ModemRegDenied, "the network denied registration (SIM blocked or not provisioned)"}, nil
		}
		if !o.p.now().Before(deadline) {
			return &condition{api.ModemNoService, "not registered on any network"}, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = max(min(2*pause, slowest), o.p.reopenMin)
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

// notReady is the answer to work offered while the owner waits with the
// modem out of work (held, or pacing a boot loop).
func notReady(o *owner) error {
	return fmt.Errorf("modem is %s: %w", o.snapshot().State, ErrModemNotReady)
}
