package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
)

// MessageState is an outgoing message's state; api names the states.
type MessageState = api.MessageState

const (
	Queued      = api.MessageQueued
	Sending     = api.MessageSending
	Sent        = api.MessageSent
	Delivered   = api.MessageDelivered
	Undelivered = api.MessageUndelivered
	Failed      = api.MessageFailed
	Expired     = api.MessageExpired
	Unknown     = api.MessageUnknown
	Cancelled   = api.MessageCancelled
)

// messageTransitions is the one place that says which state may follow
// which. Everything that changes a message's state goes through
// transitionMessage, which enforces it.
var messageTransitions = map[MessageState][]MessageState{
	Queued:  {Sending, Failed, Expired, Cancelled, Unknown}, // Unknown only in a restored backup
	Sending: {Queued, Sent, Failed, Unknown, Expired},
	Sent:    {Delivered, Undelivered},
	Unknown: {Delivered, Undelivered, Queued}, // Queued only under at_least_once
}

func allowed(from, to MessageState) bool {
	for _, s := range messageTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// ErrConflict is returned when a write does not fit the object's current
// state (a cancel after sending started, an idempotency key reused with
// another request).
var ErrConflict = errors.New("conflict")

// Part is one SMS of a message.
type Part struct {
	Seq          int
	State        string
	MR           *int
	SentAt       time.Time
	ReportAt     time.Time
	ReportStatus *int
}

// Message is an outgoing SMS as stored; MessageView makes what the API shows
// of it.
type Message struct {
	ID          string
	Reference   string
	To          string
	Text        string
	TextBlanked bool
	Encoding    string
	Parts       int
	PinModem    string
	PinOperator string
	Report      bool
	ConcatRef   int
	State       MessageState
	Seq         int
	ICCID       string
	ModemID     string
	Attempts    int
	NextAttempt time.Time
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UpdatedAt   time.Time
	SentAt      time.Time
	FinalAt     time.Time
	Error       *ErrorInfo
	// ReportOverdue says a requested delivery report has not come within
	// the configured wait; it is worked out when the message is read.
	ReportOverdue bool
	PartList      []Part
}

// ErrorInfo is the last error a message met, with the modem's own code.
type ErrorInfo struct {
	Code    string
	Message string
}

// NewID returns a time-ordered random id with the given prefix, e.g.
// "msg_01HV...". Time first keeps ids roughly sortable by creation.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli()))
	rand.Read(b[8:])
	// The hex alphabet keeps ids in time order even lowercased (StdEncoding
	// would put its digits after its letters).
	enc := base32.HexEncoding.WithPadding(base32.NoPadding)
	// Drop the two leading zero bytes of the 64-bit millisecond count.
	return prefix + strings.ToLower(enc.EncodeToString(b[2:]))
}

// NewMessage is what the API accepted.
type NewMessage struct {
	To, Text, Encoding     string
	Parts                  int
	Reference              string
	PinModem, PinOperator  string
	Report                 bool
	TTL                    time.Duration
	IdempotencyKey         string
	IdempotencyFingerprint string // the normalised request, compared on reuse
}

// Messages are outgoing SMS: accepted, queued, sent part by part and read
// back; sending.go holds the transitions of a message being sent.
type Messages struct{ s *Store }

// Accept stores a new message durably. With an idempotency key already seen
// it returns the stored message and existed=true, or ErrConflict when the
// key came with another request.
func (mg Messages) Accept(ctx context.Context, n NewMessage) (m *Message, existed bool, err error) {
	s := mg.s
	err = s.Write(ctx, func(t *Tx) error {
		if n.IdempotencyKey != "" {
			var fp, id string
			err := t.queryRow("SELECT request, message_id FROM idempotency WHERE key = ?", n.IdempotencyKey).Scan(&fp, &id)
			switch {
			case err == nil:
				if fp != n.IdempotencyFingerprint {
					return fmt.Errorf("%w: Idempotency-Key was used with a different request", ErrConflict)
				}
				existed = true
				m, err = getMessage(t, id)
				return err
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		m, err = insertMessage(t, NewID("msg_", t.now), n)
		if err != nil {
			return err
		}
		if n.IdempotencyKey != "" {
			if _, err := t.exec("INSERT INTO idempotency (key, request, message_id, created_at) VALUES (?,?,?,?)",
				n.IdempotencyKey, n.IdempotencyFingerprint, m.ID, ms(t.now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return m, existed, nil
}

// MessageAs is a message another host accepted for the fleet, under its id.
type MessageAs struct {
	ID string
	NewMessage
}

// AcceptAllAs stores messages other hosts accepted for the fleet, under
// their ids, in one transaction: a puller's batch costs one write instead
// of one per message. An id stored before comes back as stored, with
// existed true, so a host that took work, stopped before acknowledging it
// and is given it again keeps one message. On an error none is stored.
func (mg Messages) AcceptAllAs(ctx context.Context, batch []MessageAs) (stored []*Message, existed []bool, err error) {
	err = mg.s.Write(ctx, func(t *Tx) error {
		stored, existed = make([]*Message, len(batch)), make([]bool, len(batch))
		for i, n := range batch {
			m, err := getMessage(t, n.ID)
			switch {
			case err == nil:
				existed[i] = true
			case errors.Is(err, ErrNotFound):
				if m, err = insertMessage(t, n.ID, n.NewMessage); err != nil {
					return err
				}
			default:
				return err
			}
			stored[i] = m
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return stored, existed, nil
}

// insertMessage writes a new queued message and its parts.
func insertMessage(t *Tx, id string, n NewMessage) (*Message, error) {
	now := t.now
	m := &Message{
		ID:          id,
		Reference:   n.Reference,
		To:          n.To,
		Text:        n.Text,
		Encoding:    n.Encoding,
		Parts:       n.Parts,
		PinModem:    n.PinModem,
		PinOperator: n.PinOperator,
		Report:      n.Report,
		State:       Queued,
		Seq:         1,
		CreatedAt:   now,
		ExpiresAt:   now.Add(n.TTL),
		UpdatedAt:   now,
	}
	if n.Parts > 1 {
		ref, err := nextConcatRef(t)
		if err != nil {
			return nil, err
		}
		m.ConcatRef = ref
	}
	_, err := t.exec(`INSERT INTO messages (id, reference, to_number, body, encoding, parts, pin_modem,
		pin_operator, report, concat_ref, state, seq, created_at, expires_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		m.ID, m.Reference, m.To, m.Text, m.Encoding, m.Parts, m.PinModem, m.PinOperator,
		boolInt(m.Report), m.ConcatRef, m.State, m.Seq, ms(m.CreatedAt), ms(m.ExpiresAt), ms(m.UpdatedAt))
	if err != nil {
		return nil, err
	}
	for i := 1; i <= n.Parts; i++ {
		if _, err := t.exec("INSERT INTO message_parts (message_id, seq) VALUES (?, ?)", m.ID, i); err != nil {
			return nil, err
		}
		m.PartList = append(m.PartList, Part{Seq: i, State: "pending"})
	}
	return m, nil
}

// nextConcatRef hands out concatenation references from a counter kept in the
// database, so a restart never reuses the reference of a message that is
// still being assembled on a handset.
func nextConcatRef(t *Tx) (int, error) {
	var v int
	err := t.queryRow("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'concat_ref'").Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	v = v%65535 + 1 // 1..65535: some handsets treat 0 specially
	_, err = t.exec("INSERT INTO meta (key, value) VALUES ('concat_ref', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", fmt.Sprint(v))
	return v, err
}

// GetMessage returns one message with its parts.
func (mg Messages) GetMessage(ctx context.Context, id string) (*Message, error) {
	s := mg.s
	return getMessage(s.reader(ctx), id)
}

// transitionMessage moves a message to a new state inside t, enforcing the
// transition table, bumping its sequence number and appending the event that
// carries the whole message. set applies the columns that go with the change.
func transitionMessage(t *Tx, id string, to MessageState, set func(m *Message)) (*Message, error) {
	m, err := getMessage(t, id)
	if err != nil {
		return nil, err
	}
	if to == Queued && m.State == Sending && IsConfirmationMessage(m) {
		if to, set, err = unlessConfirmationDecided(t, m, set); err != nil {
			return nil, err
		}
	}
	if m.State != to && !allowed(m.State, to) {
		return m, fmt.Errorf("%w: message %s is %s, cannot become %s", ErrConflict, id, m.State, to)
	}
	m.State = to
	m.Seq++
	m.UpdatedAt = t.now
	if to.Final() && m.FinalAt.IsZero() {
		m.FinalAt = t.now
	}
	if set != nil {
		set(m)
	}
	var code, text string
	if m.Error != nil {
		code, text = m.Error.Code, m.Error.Message
	}
	_, err = t.exec(`UPDATE messages SET state=?, seq=?, iccid=?, modem_id=?, attempts=?, next_attempt=?,
		updated_at=?, sent_at=?, final_at=?, error_code=?, error_text=? WHERE id=?`,
		m.State, m.Seq, m.ICCID, m.ModemID, m.Attempts, ms(m.NextAttempt), ms(m.UpdatedAt), ms(m.SentAt),
		ms(m.FinalAt), code, text, id)
	if err != nil {
		return nil, err
	}
	if err := appendEvent(t, "message."+string(to), "message", m.ID, m.Seq, MessageView(m)); err != nil {
		return nil, err
	}
	if err := confirmationOnMessage(t, m); err != nil {
		return nil, err
	}
	return m, nil
}

func appendEvent(t *Tx, typ, kind, objectID string, seq int, object any) error {
	payload, err := json.Marshal(object)
	if err != nil {
		return fmt.Errorf("event %s: %w", typ, err)
	}
	var id int64
	err = t.queryRow("INSERT INTO events (type, kind, object_id, object_seq, payload, created_at, actor) VALUES (?,?,?,?,?,?,?) RETURNING id",
		typ, kind, objectID, seq, string(payload), ms(t.now), t.actor).Scan(&id)
	if err != nil {
		return err
	}
	t.lastEvent = max(t.lastEvent, id)
	t.types = append(t.types, typ)
	return nil
}

// messageCursor is what a message id looks like: NewID's "msg_" and
// lowercase base32, in the hex alphabet of today's ids or the standard one
// of the first. Any other cursor sorts before or after every id and would
// answer a silently wrong page.
var messageCursor = regexp.MustCompile(`^msg_[0-9a-z]{1,64}$`)

// MessageFilter selects messages for listing.
type MessageFilter struct {
	State MessageState // "" = any
	Since time.Time    // created at or after
	After string       // cursor: the last id of the previous page
	Limit int
}

// ListMessages pages through messages in id order (ids are time-ordered).
// Parts are not included. next is the cursor for the following page, "" at
// the end.
func (mg Messages) ListMessages(ctx context.Context, f MessageFilter) (list []*Message, next string, err error) {
	s := mg.s
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.After != "" && !messageCursor.MatchString(f.After) {
		return nil, "", fmt.Errorf("%w: cursor %q", ErrBadCursor, f.After)
	}
	list, more, err := listPage(ctx, s.rdb, pageQuery{columns: messageColumns, table: "messages", key: "id",
		after: f.After, since: f.Since, state: string(f.State), limit: f.Limit}, scanMessage)
	if err != nil {
		return nil, "", err
	}
	// Not through the reader's statement cache: the IN list differs in
	// length from page to page.
	query := func(q string, args ...any) (*sql.Rows, error) { return s.rdb.QueryContext(ctx, q, args...) }
	if err := loadParts(query, list); err != nil {
		return nil, "", err
	}
	if more {
		next = list[len(list)-1].ID
	}
	return list, next, err
}
