package payment

import (
	"errors"
	"fmt"

	"github.com/gsmbridge/gsmbridge/api"
)

// State is a payment confirmation's state; api names the states.
type State = api.ConfirmationState

const (
	Queued    = api.ConfirmationQueued
	Sent      = api.ConfirmationSent
	Confirmed = api.ConfirmationConfirmed
	Cancelled = api.ConfirmationCancelled
	Expired   = api.ConfirmationExpired
	Failed    = api.ConfirmationFailed
)

// States lists every state in the order the API documents them.
var States = api.ConfirmationStates

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
