package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gsmbridge/gsmbridge/api"
)

// Error is an answer other than 2xx. For the daemon's own error answers
// Code, Field and Message are its; for anything else (a proxy in between,
// an address that is not gsmbridge) Code is empty and Message says what came.
type Error struct {
	Status  int
	Code    string // invalid_field, not_found, conflict, unauthorized, ...
	Field   string // the request field at fault, if one is
	Message string
	// Body is the answer as it came: some carry more than the error (a 409
	// on a cancel holds the message or confirmation as it stands).
	Body []byte
	// NoToken is set on a 401 when the client had no token to give.
	NoToken bool
}

func (e *Error) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Message + " (" + e.Code + ")"
}

func (c *Client) answerError(resp *http.Response, data []byte) error {
	var body struct {
		Error *api.Error `json:"error"`
	}
	e := &Error{Status: resp.StatusCode, Body: data, NoToken: resp.StatusCode == http.StatusUnauthorized && c.token == ""}
	if json.Unmarshal(data, &body) == nil && body.Error != nil && body.Error.Message != "" {
		e.Code, e.Message, e.Field = body.Error.Code, body.Error.Message, body.Error.Field
		return e
	}
	// Not the daemon's error shape: a proxy, or the address points elsewhere.
	e.Message = fmt.Sprintf("HTTP %s from %s", resp.Status, c.base)
	if b := strings.TrimSpace(string(data)); b != "" {
		e.Message += ": " + printable(b, 200)
	}
	return e
}

// printable keeps text from elsewhere from moving a terminal's cursor or
// recolouring it when the error is printed: line breaks become spaces,
// other control and bidi-override characters U+FFFD; at most max runes.
func printable(s string, max int) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if len(out) == max {
			out[max-1] = '…'
			break
		}
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == '\v' || r == '\f':
			r = ' '
		case unicode.IsControl(r) || r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069':
			r = utf8.RuneError
		}
		out = append(out, r)
	}
	return string(out)
}
