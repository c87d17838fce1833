package payment

import (
	"strings"
	"time"
	"unicode"
)

// ReplyClockSkew is how much earlier than our send time a reply's network
// timestamp may be and still count: the SMSC's clock and ours differ, and the
// SCTS has whole seconds only. A message the customer sent well before the
// confirmation went out is not a reply to it.
const ReplyClockSkew = 2 * time.Minute

// ReplyWindow gives the bounds a sent confirmation must meet for a reply to
// answer it: sent no later than sentNoLaterThan, and expiring after
// expiresAfter. The reply's time is its network timestamp (scts), or when we
// received it if the network gave none.
func ReplyWindow(scts, receivedAt time.Time) (sentNoLaterThan, expiresAfter time.Time) {
	at := scts
	if at.IsZero() {
		at = receivedAt
	}
	return at.Add(ReplyClockSkew), at
}

// ReadReply decides what a customer's reply says: a cancel word (compared
// without case, after trimming every Unicode space) cancels, any other text
// confirms, and an empty or all-space reply says nothing.
func ReadReply(text string, cancelWords []string) (State, bool) {
	word := strings.TrimFunc(text, unicode.IsSpace)
	if word == "" {
		return "", false
	}
	for _, w := range cancelWords {
		if strings.EqualFold(word, strings.TrimFunc(w, unicode.IsSpace)) {
			return Cancelled, true
		}
	}
	return Confirmed, true
}
