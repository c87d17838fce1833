package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Event is one entry of the event log, as GET /v1/events and webhooks
// deliver it. Data is the object's view at the time (a Message, a
// Confirmation, a Modem, ...), chosen by Object.Kind.
type Event struct {
	ID        int64       `json:"id"`
	Type      string      `json:"type"` // "message.delivered", "sms.received", ...
	Object    EventObject `json:"object"`
	CreatedAt time.Time   `json:"created_at"`
	// Actor names the API token whose request caused the event; empty
	// for what the daemon did on its own or a request without a token.
	Actor string          `json:"actor,omitempty"`
	Data  json.RawMessage `json:"data"`
}

// EventObject names what an event is about.
type EventObject struct {
	Kind string `json:"kind"` // message, confirmation, sms, modem, sim, store
	ID   string `json:"id"`
	Seq  int    `json:"seq"` // the object's version the event shows
}

// EventPage is a page of GET /v1/events.
type EventPage struct {
	Events    []Event `json:"events"`
	More      bool    `json:"more"`
	NextAfter int64   `json:"next_after"`
}

// Webhook is a configured webhook endpoint and how far it got; its secrets
// are never shown.
type Webhook struct {
	Index       int       `json:"index"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"`
	Cursor      int64     `json:"cursor"`
	Backlog     int64     `json:"backlog"`
	HeadEvent   int64     `json:"head_event,omitempty"`
	Attempts    int       `json:"attempts"`
	FirstTry    time.Time `json:"first_try_at,omitzero"`
	NextAttempt time.Time `json:"next_attempt_at,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	DeadLetters int64     `json:"dead_letters"`
}

// WebhookList is GET /v1/webhooks.
type WebhookList struct {
	Webhooks []Webhook `json:"webhooks"`
}

// DeadLetter is an event a webhook endpoint did not take in time.
type DeadLetter struct {
	ID        int64     `json:"id"`
	EventID   int64     `json:"event_id"`
	EventType string    `json:"event_type"`
	Attempts  int       `json:"attempts"`
	FirstTry  time.Time `json:"first_try_at"`
	LastError string    `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
	Webhook   *int      `json:"webhook,omitempty"` // index in the configuration; absent when no longer configured
	URL       string    `json:"url"`
}

// DeadLetterList is GET /v1/webhooks/dead-letters.
type DeadLetterList struct {
	DeadLetters []DeadLetter `json:"dead_letters"`
}

// Retried is the answer to a dead letter's retry.
type Retried struct {
	DeadLetter DeadLetter `json:"dead_letter"`
	Delivered  bool       `json:"delivered"`
}

// eventFamilies are the first words of the event types the daemon writes.
// The words after them are the features' own (modem.up, sim.suspect),
// except for messages and confirmations, whose events are their states.
var eventFamilies = map[string][]string{
	"balance": nil, "modem": nil, "receiving": nil, "sim": nil, "sms": nil, "store": nil,
	"message":      stateNames(MessageStates),
	"confirmation": stateNames(ConfirmationStates),
}

func stateNames[S ~string](list []S) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = string(s)
	}
	return out
}

// CheckEventType says why p, an event type, a prefix ending in ".*" or
// "*", selects no event the daemon writes, or returns nil: a filter that
// can never match (a webhook's, a listing's) is a mistake to hear of, not
// an endpoint that stays silent.
func CheckEventType(p string) error {
	if p == "*" {
		return nil
	}
	family, rest, _ := strings.Cut(strings.TrimSuffix(p, ".*"), ".")
	if rest == "" && !strings.HasSuffix(p, ".*") {
		return fmt.Errorf("%q is no event type: a family of them is %s.*", p, family)
	}
	known, ok := eventFamilies[family]
	if !ok {
		names := slices.Sorted(maps.Keys(eventFamilies))
		return fmt.Errorf("%q is no event type: types start with %s", p, strings.Join(names, ", "))
	}
	if known != nil && rest != "" && (!slices.Contains(known, rest) || strings.HasSuffix(p, ".*")) {
		return fmt.Errorf("%q is no event type: %s events are %s.<state>, one of %s", p, family, family, strings.Join(known, ", "))
	}
	return nil
}
