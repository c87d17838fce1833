package api

import (
	"time"

	"github.com/gsmbridge/gsmbridge/ussd"
)

// NewConfirmation is the body of POST /v1/confirmations: ask a customer to
// confirm a payment by SMS.
type NewConfirmation struct {
	ID               string `json:"id"` // the caller's payment id; repeating it is safe
	Phone            string `json:"phone"`
	Txn              string `json:"txn"`
	Amount           string `json:"amount"` // decimal, "1500.00"
	Currency         string `json:"currency"`
	TTL              string `json:"ttl,omitempty"`  // a Go duration; the daemon's default when empty
	Text             string `json:"text,omitempty"` // a template replacing the configured one
	CustomerOperator string `json:"customer_operator,omitempty"`
}

// ConfirmationState is a payment confirmation's state.
type ConfirmationState string

// Confirmation states; confirmed, cancelled, expired and failed are final.
const (
	ConfirmationQueued    ConfirmationState = "queued"
	ConfirmationSent      ConfirmationState = "sent"
	ConfirmationConfirmed ConfirmationState = "confirmed"
	ConfirmationCancelled ConfirmationState = "cancelled"
	ConfirmationExpired   ConfirmationState = "expired"
	ConfirmationFailed    ConfirmationState = "failed"
)

// ConfirmationStates lists every state in the order the API documents them.
var ConfirmationStates = []ConfirmationState{ConfirmationQueued, ConfirmationSent, ConfirmationConfirmed,
	ConfirmationCancelled, ConfirmationExpired, ConfirmationFailed}

// Final reports whether the confirmation is decided; a final state never
// changes again.
func (s ConfirmationState) Final() bool {
	switch s {
	case ConfirmationConfirmed, ConfirmationCancelled, ConfirmationExpired, ConfirmationFailed:
		return true
	}
	return false
}

// Pending reports whether the confirmation still waits for its SMS or for the
// customer.
func (s ConfirmationState) Pending() bool {
	return s == ConfirmationQueued || s == ConfirmationSent
}

// Confirmation is a payment confirmation as GET /v1/confirmations/{id}
// shows it, and the payload of confirmation events.
type Confirmation struct {
	ID               string            `json:"id"`
	Phone            string            `json:"phone"`
	Txn              string            `json:"txn"`
	Amount           ussd.Amount       `json:"amount"`
	Currency         string            `json:"currency"`
	CustomerOperator string            `json:"customer_operator,omitempty"`
	Text             string            `json:"text"`
	State            ConfirmationState `json:"state"`
	Version          int               `json:"version"` // grows with every change; long polls compare it
	Reason           string            `json:"reason,omitempty"`
	MessageID        string            `json:"message_id"`
	ICCID            string            `json:"iccid,omitempty"`
	ReplyInboxID     int64             `json:"reply_inbox_id,omitempty"`
	Parts            int               `json:"parts"`
	CreatedAt        time.Time         `json:"created_at"`
	ExpiresAt        time.Time         `json:"expires_at"`
	SentAt           time.Time         `json:"sent_at,omitzero"`
	FinalAt          time.Time         `json:"final_at,omitzero"`
	UpdatedAt        time.Time         `json:"updated_at"`
	// Hold says what keeps a queued confirmation's SMS from going.
	Hold *Hold `json:"hold,omitempty"`
}

// ConfirmationList is a page of GET /v1/confirmations.
type ConfirmationList struct {
	Confirmations []Confirmation `json:"confirmations"`
	NextCursor    string         `json:"next_cursor"`
}

// QuoteRequest is the body of POST /v1/quote.
type QuoteRequest struct {
	CustomerOperator string `json:"customer_operator"`
	Amount           string `json:"amount"`
	Phone            string `json:"phone,omitempty"` // adds the customer's usage so far
}

// Quote is what a payment through an operator costs and which limits it
// would break.
type Quote struct {
	CustomerOperator  string        `json:"customer_operator"`
	OperatorName      string        `json:"operator_name"`
	Amount            ussd.Amount   `json:"amount"`
	CommissionPercent string        `json:"commission_percent"`
	Commission        ussd.Amount   `json:"commission"`
	Total             ussd.Amount   `json:"total"`
	Limits            PaymentLimits `json:"limits"`
	Usage             *QuoteUsage   `json:"usage,omitempty"`
	Breaks            []LimitBreak  `json:"breaks"`
}

// PaymentLimits are an operator's limits on mobile payments.
type PaymentLimits struct {
	PerPayment     *ussd.Amount `json:"per_payment,omitempty"`
	PerDay         *ussd.Amount `json:"per_day,omitempty"`
	PerMonth       *ussd.Amount `json:"per_month,omitempty"`
	PaymentsPerDay int          `json:"payments_per_day,omitempty"`
}

// QuoteUsage is what the customer already paid in the limits' windows.
type QuoteUsage struct {
	Day         ussd.Amount `json:"day"`
	Month       ussd.Amount `json:"month"`
	DayPayments int         `json:"day_payments"`
}

// LimitBreak names a limit a payment would break.
type LimitBreak struct {
	Limit   string `json:"limit"` // per_payment, per_day, per_month, payments_per_day
	Allowed string `json:"allowed"`
	After   string `json:"after"` // the sum or count with this payment
}
