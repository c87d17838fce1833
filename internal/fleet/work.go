package fleet

import (
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"time"
)

// Kinds of work.
const (
	KindMessage      = "msg"
	KindConfirmation = "conf"
)

// Route is where a piece of work may be served, from what the request
// pinned: a SIM, a modem, an operator, or nothing (any host). Subjects
// carry it, so a host pulls only what its modems can serve.
type Route struct {
	SIM      string `json:"sim,omitempty"`      // ICCID
	Modem    string `json:"modem,omitempty"`    // modem id
	Operator string `json:"operator,omitempty"` // PLMN
}

var plainToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// token spells an id as one subject token: ids such as "usb:1-1.3" hold
// characters that would split or widen a subject.
func token(id string) string {
	if plainToken.MatchString(id) {
		return id
	}
	return "x" + hex.EncodeToString([]byte(id))
}

// Subject returns the route's part of a work subject.
func (r Route) Subject() string {
	switch {
	case r.SIM != "":
		return "sim." + token(r.SIM)
	case r.Modem != "":
		return "modem." + token(r.Modem)
	case r.Operator != "":
		return "op." + token(r.Operator)
	}
	return "any"
}

// consumer names the durable consumer all hosts share for one route.
func (r Route) consumer() string {
	return "work-" + strings.ReplaceAll(r.Subject(), ".", "-")
}

// Work is one message or confirmation as the API accepted it on some host,
// on its way to the host that will send it.
type Work struct {
	Kind  string `json:"kind"`
	ID    string `json:"id"`
	Route Route  `json:"route"`
	// Request is what the accepting host validated, in the form the
	// taking host stores; the fleet does not look inside.
	Request    json.RawMessage `json:"request"`
	AcceptedBy string          `json:"accepted_by"`
	AcceptedAt time.Time       `json:"accepted_at"`
}

func (c *Conn) workSubject(w Work) string {
	return c.cfg.Names.Subject + ".work." + w.Kind + "." + w.Route.Subject()
}
