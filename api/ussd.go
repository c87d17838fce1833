package api

import "time"

// USSDRequest is the body of POST /v1/modems/{id}/ussd.
type USSDRequest struct {
	Code string `json:"code"` // "*100#"
}

// USSDReply is the body of POST /v1/ussd/{session_id}/reply.
type USSDReply struct {
	Text string `json:"text"`
}

// USSDAnswer is the network's answer to a USSD request or reply.
type USSDAnswer struct {
	SessionID string    `json:"session_id"`
	Modem     string    `json:"modem"`
	Status    string    `json:"status"` // done, action-required, ...
	Text      string    `json:"text"`
	Raw       string    `json:"raw"`
	DCS       int       `json:"dcs"`
	Decoding  string    `json:"decoding,omitempty"`
	Open      bool      `json:"open"` // the network waits for a reply
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// USSDSession is a USSD session a modem is or was in.
type USSDSession struct {
	ID          string    `json:"session_id"`
	Modem       string    `json:"modem"`
	ICCID       string    `json:"iccid,omitempty"`
	Purpose     string    `json:"purpose"` // "api" or "balance"
	State       string    `json:"state"`
	StartedAt   time.Time `json:"started_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
	CloseReason string    `json:"close_reason,omitempty"`
}
