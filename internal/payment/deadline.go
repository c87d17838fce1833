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
	// long its SIM must have been readable, before it expires; its storage
	// must then be swept once more.
	Grace time.Duration
	// LostAfter is how long past expires_at a confirmation whose SIM is out
	// stays pending before it fails; 0 waits for the SIM forever.
	LostAfter time.Duration
}

// AtDeadline applies the expiry rule to a confirmation in state that expires
// at expiresAt, at now.
//
// A sent confirmation expires at expiresAt + Grace, and only once its SIM
// has been read past that: the modem holding it ready for at least the
// grace (the network could hand it the replies), and a sweep of its storage
// that began at or after expiresAt + Grace complete. A reply written in time
// may still sit in the SIM's storage, and some modems lose the announcement
// of a new message, so having been ready is no proof the reply was read;
// a sweep is. simRead(readySince, sweptFrom) reports whether both are so;
// it is asked only when the answer matters. A SIM that is out, or not swept,
// keeps its confirmation pending until it is read, or until LostAfter past
// the deadline: then the payment core gets a failure it can act on instead
// of waiting forever.
func AtDeadline(state State, expiresAt, now time.Time, d Deadlines, simRead func(readySince, sweptFrom time.Time) bool) Verdict {
	if !state.Pending() || now.Before(expiresAt) {
		return Verdict{}
	}
	if state == Queued {
		return Verdict{Action: SMSExpires}
	}
	if now.Before(expiresAt.Add(d.Grace)) {
		return Verdict{}
	}
	if simRead(now.Add(-d.Grace), expiresAt.Add(d.Grace)) {
		return Verdict{Action: Expire}
	}
	if d.LostAfter == 0 || now.Before(expiresAt.Add(d.LostAfter)) {
		return Verdict{}
	}
	return Verdict{Action: Fail, Reason: fmt.Sprintf(
		"SIM failure: its SIM was not read within %s after the deadline; a reply waiting on it is not counted", d.LostAfter)}
}
