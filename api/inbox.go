package api

import "time"

// InboxMessage is a received SMS as GET /v1/inbox shows it, and the payload
// of sms.received events. A long message is one row once all its parts came.
type InboxMessage struct {
	ID         int64     `json:"id"`
	ICCID      string    `json:"iccid"`
	Modem      string    `json:"modem"`
	From       string    `json:"from"`
	Text       string    `json:"text"`
	Blanked    bool      `json:"text_blanked,omitempty"`
	Encoding   string    `json:"encoding"`
	Plain      bool      `json:"plain_text"`
	Complete   bool      `json:"complete"` // false: parts were missing when the daemon gave up waiting
	Parts      int       `json:"parts"`
	SCTS       time.Time `json:"network_time"`
	ReceivedAt time.Time `json:"received_at"`
}

// InboxList is a page of GET /v1/inbox.
type InboxList struct {
	Messages   []InboxMessage `json:"messages"`
	NextCursor string         `json:"next_cursor"`
}
