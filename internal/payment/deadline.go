package payment

import (
	"fmt"
	"time"
)

// Action is what a confirmation's deadline asks for.
type Action int

const (
	// Wait: nothing to do yet (or ever, for a final confirmation).
	Wait Action = iota
	// SMSExpires: the confirmation is still queued at its deadline; the
	// scheduler expires its SMS and the store fails the confirmation with it.
	SMSExpires
	// Expire: the customer did not answer in time.
	Expire
	// Fail: its SIM stayed out too long past the deadline to know; Reason
	// says so.
	Fail
)

// Verdict is the decision AtDeadline takes.
type Verdict struct {
	Action Action
	Reason string // for Fail
}

// Deadlines are the configured expiry rules.
type Deadlines struct {
	// Grace is how long past expires_at a sent confirmation waits, and how
	// long its SIM must have been readable, before it expires.
	Grace time.Duration
	// LostAfter is how long past expires_at a confirmation whose SIM is out
	// stays pending before it fails; 0 waits for the SIM forever.
	LostAfter time.Duration
}

// AtDeadline applies the expiry rule to a confirmation in state that expires
// at expiresAt, at now.
//
// A sent confirmation expires at expiresAt + Grace, and only while the modem
// holding its SIM is ready and has been for at least the grace: a reply
// written in time may still sit in the SIM's storage, and a modem reads its
// storage before it turns ready and then at least every poll interval.
// simReadSince(t) reports whether that is so since t; it is asked only when
// the answer matters. A SIM that is out keeps its confirmation pending until
// it is back, or until LostAfter past the deadline: then the payment core
// gets a failure it can act on instead of waiting forever.
func AtDeadline(state State, expiresAt, now time.Time, d Deadlines, simReadSince func(time.Time) bool) Verdict {
	if !state.Pending() || now.Before(expiresAt) {
		return Verdict{}
	}
	if state == Queued {
		return Verdict{Action: SMSExpires}
	}
	if now.Before(expiresAt.Add(d.Grace)) {
		return Verdict{}
	}
	if simReadSince(now.Add(-d.Grace)) {
		return Verdict{Action: Expire}
	}
	if d.LostAfter == 0 || now.Before(expiresAt.Add(d.LostAfter)) {
		return Verdict{}
	}
	return Verdict{Action: Fail, Reason: fmt.Sprintf(
		"SIM failure: its SIM was not read within %s after the deadline; a reply waiting on it is not counted", d.LostAfter)}
}
