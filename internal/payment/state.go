package payment

import (
	"errors"
	"fmt"
)

// State is a payment confirmation's state as the API shows it.
type State string

const (
	Queued    State = "queued"
	Sent      State = "sent"
	Confirmed State = "confirmed"
	Cancelled State = "cancelled"
	Expired   State = "expired"
	Failed    State = "failed"
)

// States lists every state in the order the API documents them.
var States = []State{Queued, Sent, Confirmed, Cancelled, Expired, Failed}

// Final reports whether the confirmation is decided; a final state never
// changes again.
func (s State) Final() bool {
	switch s {
	case Confirmed, Cancelled, Expired, Failed:
		return true
	}
	return false
}

// Pending reports whether the confirmation still waits for its SMS or for the
// customer.
func (s State) Pending() bool { return s == Queued || s == Sent }

// transitions is the one place that says which state may follow which. Every
// final state is reachable only from a pending one, so the first final state
// wins. README.md (here and at the module root) shows it; a test holds both.
var transitions = map[State][]State{
	Queued: {Sent, Cancelled, Failed},
	Sent:   {Confirmed, Cancelled, Expired, Failed},
}

// ErrRefused is returned by Move for a transition the table does not allow.
var ErrRefused = errors.New("transition refused")

// CanMove reports whether a confirmation in state from may become to.
func CanMove(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Move checks a transition against the table: nil when from may become to,
// an error wrapping ErrRefused otherwise.
func Move(from, to State) error {
	if !CanMove(from, to) {
		return fmt.Errorf("%w: %s cannot become %s", ErrRefused, from, to)
	}
	return nil
}

// Reasons a confirmation became cancelled or failed, as its reason field
// says them.
const (
	ReasonCustomerCancelled = "the customer replied with a cancel word"
	ReasonAPICancelled      = "cancelled through the API"
	ReasonMessageCancelled  = "its SMS was cancelled through the messages API"
	ReasonExpiredUnsent     = "expired before the SMS could be sent"
	// ReasonUndeliverable and ReasonSendFailed are followed by the SMS's
	// error code in brackets when it has one.
	ReasonUndeliverable = "not deliverable"
	ReasonSendFailed    = "SIM failure: the SMS could not be sent"
)
