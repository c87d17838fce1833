package api

import "time"

// SIM states.
const (
	SIMActive  = "active"
	SIMSuspect = "suspect" // failed several sends in a row; rests until a check or a resume
)

// SIM is a SIM card the daemon has seen, as GET /v1/sims shows it, and the
// payload of sim events.
type SIM struct {
	// ICCID is the SIM's key: its ICCID, or "imsi:<IMSI>" when the modem
	// cannot read the ICCID (IDSource says which).
	ICCID          string    `json:"iccid"`
	IDSource       string    `json:"id_source"`
	IMSI           string    `json:"imsi,omitempty"`
	MSISDN         string    `json:"msisdn,omitempty"`
	PLMN           string    `json:"plmn,omitempty"`
	SMSC           string    `json:"smsc,omitempty"`
	Modem          string    `json:"modem,omitempty"`
	State          string    `json:"state"`
	StateReason    string    `json:"state_reason,omitempty"`
	StateSince     time.Time `json:"state_since,omitzero"`
	FailStreak     int       `json:"consecutive_failures"`
	Version        int       `json:"version"`
	ReceiveStalled bool      `json:"receiving_stalled"`
	LastSentAt     time.Time `json:"last_sent_at,omitzero"`
	LastReceivedAt time.Time `json:"last_received_at,omitzero"`
	FirstSeen      time.Time `json:"first_seen"`
	LastSeen       time.Time `json:"last_seen"`
	// Host and HostDown are set in fleet listings (?fleet=true) only: the
	// host that has seen the SIM, and whether it stopped beating, so that
	// what is shown is its last known state.
	Host     string `json:"host,omitempty"`
	HostDown bool   `json:"host_down,omitempty"`
}

// SIMList is GET /v1/sims.
type SIMList struct {
	SIMs []SIM `json:"sims"`
}

// ModemList is GET /v1/modems.
type ModemList struct {
	Modems []Modem `json:"modems"`
}

// Balance is one balance reading of a SIM.
type Balance struct {
	ICCID     string    `json:"iccid"`
	Modem     string    `json:"modem,omitempty"`
	Amount    string    `json:"amount,omitempty"`
	Currency  string    `json:"currency,omitempty"`
	Parsed    bool      `json:"parsed"` // the amount was read with certainty
	Text      string    `json:"text"`
	Raw       string    `json:"raw"`
	Source    string    `json:"source"` // "ussd" or "sms"
	CheckedAt time.Time `json:"checked_at"`
}

// BalanceState is how a SIM's balance checks go.
type BalanceState struct {
	Low           bool      `json:"low"`
	LowSince      time.Time `json:"low_since,omitzero"`
	NextCheck     time.Time `json:"next_check,omitzero"`
	Checks        int       `json:"checks"`
	ParseFailures int       `json:"parse_failures"`
	CheckFailures int       `json:"check_failures"`
	LastError     string    `json:"last_error,omitempty"`
	LastErrorAt   time.Time `json:"last_error_at,omitzero"`
}

// BalanceView is GET /v1/sims/{iccid}/balance and /v1/modems/{id}/balance,
// and the answer of a POST there, which asks the network first.
type BalanceView struct {
	ICCID    string   `json:"iccid"`
	Modem    string   `json:"modem,omitempty"`
	MSISDN   string   `json:"msisdn,omitempty"`
	Operator Operator `json:"operator"`
	// Balance is the newest reading whose amount was read with certainty;
	// LastCheck the newest reading of any kind, with the operator's text.
	Balance   *Balance     `json:"balance"`
	LastCheck *Balance     `json:"last_check"`
	Threshold string       `json:"threshold,omitempty"`
	State     BalanceState `json:"state"`
}

// BalanceCheck is the body of POST /v1/sims/{iccid}/balance and
// /v1/modems/{id}/balance, which check the balance now: it has no fields
// yet, so {} is the whole body.
type BalanceCheck struct{}

// BalanceCheckWithin bounds a balance check asked through the API: past
// it the daemon gives the check up, ends the session on the modem (up to
// 10 s more) and answers 504 balance_check_timeout. A client waits it on
// top of its usual timeout.
const BalanceCheckWithin = 75 * time.Second

// BalanceLow is the payload of balance.low events.
type BalanceLow struct {
	SIM       SIM     `json:"sim"`
	Balance   Balance `json:"balance"`
	Threshold string  `json:"threshold"`
}
