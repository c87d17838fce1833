package httpapi

import "net/http"

// MaxLongPoll is the longest a long poll holds its answer: well inside the
// server's write timeout, which would otherwise cut the answer off.
const MaxLongPoll = ServerWriteTimeout * 2 / 3

// ErrTooManyLongPolls answers a long poll past limits_http.max_long_polls.
var ErrTooManyLongPolls = &Error{Status: http.StatusTooManyRequests, Code: "too_many_long_polls",
	Message: "too many requests are waiting already; retry shortly or poll without wait"}

// LongPolls caps the requests waiting at once. Each waiting request holds
// a connection and a descriptor, so their number is capped apart from the
// connection cap: short requests must still get through. Safe for
// concurrent use.
type LongPolls struct {
	places chan struct{} // one token per long poll waiting
}

// NewLongPolls lets n long polls wait at once (at least one).
func NewLongPolls(n int) *LongPolls {
	return &LongPolls{places: make(chan struct{}, max(1, n))}
}

// Take takes one of the places; ok is false when none is free.
func (l *LongPolls) Take() (release func(), ok bool) {
	select {
	case l.places <- struct{}{}:
		return func() { <-l.places }, true
	default:
		return nil, false
	}
}

// Waiting is how many long polls hold a place now.
func (l *LongPolls) Waiting() int { return len(l.places) }
