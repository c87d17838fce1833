package api

import "time"

// NewMessage is the body of POST /v1/messages.
type NewMessage struct {
	To        string `json:"to"`
	Text      string `json:"text"`
	Modem     string `json:"modem,omitempty"`     // send only through this modem
	Operator  string `json:"operator,omitempty"`  // send only through SIMs of this PLMN
	Report    bool   `json:"report,omitempty"`    // ask the network for a delivery report
	TTL       string `json:"ttl,omitempty"`       // a Go duration ("10m"); the daemon's default when empty
	Reference string `json:"reference,omitempty"` // the caller's own reference, shown back
}

// MessageState is an outgoing message's state.
type MessageState string

// Message states. Delivered, undelivered, failed, expired and cancelled are
// final; unknown means the modem lost track of a send that may have gone.
const (
	MessageQueued      MessageState = "queued"
	MessageSending     MessageState = "sending"
	MessageSent        MessageState = "sent"
	MessageDelivered   MessageState = "delivered"
	MessageUndelivered MessageState = "undelivered"
	MessageFailed      MessageState = "failed"
	MessageExpired     MessageState = "expired"
	MessageUnknown     MessageState = "unknown"
	MessageCancelled   MessageState = "cancelled"
)

// MessageStates lists every message state in the order the API documents them.
var MessageStates = []MessageState{MessageQueued, MessageSending, MessageSent, MessageDelivered,
	MessageUndelivered, MessageFailed, MessageExpired, MessageUnknown, MessageCancelled}

// Accepted is the answer to a new message (202): its id and first state.
// The fields are in name order, as the daemon has always written them.
type Accepted struct {
	ExpiresAt time.Time    `json:"expires_at"`
	ID        string       `json:"id"`
	Parts     int          `json:"parts"`
	State     MessageState `json:"state"`
}

// Message is an outgoing SMS as GET /v1/messages/{id} shows it, and the
// payload of message events.
type Message struct {
	ID             string       `json:"id"`
	Reference      string       `json:"reference,omitempty"`
	To             string       `json:"to"`
	Text           string       `json:"text"`
	TextBlanked    bool         `json:"text_blanked,omitempty"` // retention emptied the text
	Encoding       string       `json:"encoding"`
	Parts          int          `json:"parts"`
	PinnedModem    string       `json:"pinned_modem,omitempty"`
	PinnedOperator string       `json:"pinned_operator,omitempty"`
	Report         bool         `json:"report"`
	State          MessageState `json:"state"`
	Version        int          `json:"version"` // grows with every change of the message
	ICCID          string       `json:"iccid,omitempty"`
	Modem          string       `json:"modem,omitempty"`
	Attempts       int          `json:"attempts"`
	NextAttemptAt  time.Time    `json:"next_attempt_at,omitzero"`
	CreatedAt      time.Time    `json:"created_at"`
	ExpiresAt      time.Time    `json:"expires_at"`
	UpdatedAt      time.Time    `json:"updated_at"`
	SentAt         time.Time    `json:"sent_at,omitzero"`
	FinalAt        time.Time    `json:"final_at,omitzero"`
	LastError      *ErrorInfo   `json:"last_error,omitempty"`
	// ReportOverdue says a requested delivery report has not come within
	// the configured wait.
	ReportOverdue bool   `json:"report_overdue,omitempty"`
	PartList      []Part `json:"part_list"`
	// Hold says what keeps a queued message from going.
	Hold *Hold `json:"hold,omitempty"`
}

// Part is one SMS of a message.
type Part struct {
	Seq          int       `json:"seq"`
	State        string    `json:"state"` // pending, sent, delivered, undelivered
	MR           *int      `json:"message_reference,omitempty"`
	SentAt       time.Time `json:"sent_at,omitzero"`
	ReportAt     time.Time `json:"report_at,omitzero"`
	ReportStatus *int      `json:"report_status,omitempty"` // TP-Status of the delivery report
}

// ErrorInfo is why a send failed, with the modem's own code ("CMS 38").
type ErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// MessageList is a page of GET /v1/messages.
type MessageList struct {
	Messages   []Message `json:"messages"`
	NextCursor string    `json:"next_cursor"`
}

// Hold is what keeps a queued message from going.
type Hold struct {
	Reason string `json:"reason"`
	// Until is the earliest time the message can go, when it is known (a
	// limit's window, a retry); zero when it depends on something else (a
	// modem coming back). A time after expires_at means it will expire.
	Until  time.Time `json:"until,omitzero"`
	Detail string    `json:"detail"`
}

// Hold reasons: why a queued message is not going.
const (
	// HoldNoReadyModem: no modem is ready to send at all.
	HoldNoReadyModem = "no_ready_modem"
	// HoldPinnedModemUnavailable: the message may only use its pinned modem,
	// and that modem is not ready.
	HoldPinnedModemUnavailable = "pinned_modem_unavailable"
	// HoldOperatorPinned: the message may only use SIMs of its pinned
	// operator, and none of them is in a ready modem.
	HoldOperatorPinned = "operator_pinned"
	// HoldSIMUnavailable: the first parts went out through one SIM, so the
	// rest must too, and that SIM is not in a ready modem.
	HoldSIMUnavailable = "sim_unavailable"
	// HoldSIMLimit: the SIM's per-minute, per-hour or per-day send limit is
	// reached; until says when the window lets the message's parts through.
	HoldSIMLimit = "sim_limit"
	// HoldModemBusy: the modem is sending another message (or one ahead in
	// the queue took it); the message goes when it is done.
	HoldModemBusy = "modem_busy"
	// HoldConfirmationPending: a confirmation SMS whose customer still has an
	// open confirmation on this SIM; a reply must never be ambiguous.
	HoldConfirmationPending = "confirmation_pending"
	// HoldUSSDSession: the modem is in a USSD session.
	HoldUSSDSession = "ussd_session"
	// HoldModemDegraded: the modem stopped answering and is being probed.
	HoldModemDegraded = "modem_degraded"
	// HoldSIMSuspect: the SIM failed several sends in a row and rests until
	// its cool-down check or a resume.
	HoldSIMSuspect = "sim_suspect"
	// HoldRetryBackoff: a send failed before the message went out; until is
	// the next attempt.
	HoldRetryBackoff = "retry_backoff"
	// HoldModemPaused: the modem takes no work for a reason of its own
	// that has no name above; named so that no pause is ever missed.
	HoldModemPaused = "modem_paused"
)

// Final reports whether nothing more will happen to the message's sending.
// sent and unknown are not final: a delivery report may still come.
func (s MessageState) Final() bool {
	switch s {
	case MessageDelivered, MessageUndelivered, MessageFailed, MessageExpired, MessageCancelled:
		return true
	}
	return false
}
