package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Events is the event log: every change of a message, confirmation, modem or
// SIM, in order, for the events API, webhooks and followers.
type Events struct{ s *Store }

// LogEnd is the end of this log, to wait on for what comes next.
func (ev Events) LogEnd() *LogEnd { return ev.s.end }

// AppendEvent adds an event about an object that is not stored in its own
// table (a modem going down, a SIM swap), with the object as its payload.
func (ev Events) AppendEvent(ctx context.Context, typ, kind, objectID string, seq int, object any) error {
	s := ev.s
	return s.Write(ctx, func(t *Tx) error { return appendEvent(t, typ, kind, objectID, seq, object) })
}

// Event is one entry of the event log; EventView makes what the API and
// webhooks show of it.
type Event struct {
	ID        int64
	Type      string
	Object    EventObject
	CreatedAt time.Time
	// Actor names the API token whose request caused the event; empty
	// for what the daemon did on its own or a request without a token.
	Actor string
	Data  json.RawMessage
}

// EventObject names what an event is about; Seq orders the events of one
// object.
type EventObject struct {
	Kind string
	ID   string
	Seq  int
}

// EventTypes selects events by type: each pattern is an exact type
// ("message.sent"), a prefix ending in ".*" ("message.*") or "*". An empty
// list selects everything.
type EventTypes []string

// sql returns a WHERE condition (with a leading AND) and its arguments.
func (ts EventTypes) sql() (string, []any) {
	if len(ts) == 0 {
		return "", nil
	}
	var conds []string
	var args []any
	for _, p := range ts {
		switch {
		case p == "*":
			return "", nil
		case strings.HasSuffix(p, ".*"):
			prefix := strings.TrimSuffix(p, "*")
			conds = append(conds, "substr(type, 1, ?) = ?")
			args = append(args, len(prefix), prefix)
		default:
			conds = append(conds, "type = ?")
			args = append(args, p)
		}
	}
	return " AND (" + strings.Join(conds, " OR ") + ")", args
}

// Match reports whether an event type is selected.
func (ts EventTypes) Match(typ string) bool {
	if len(ts) == 0 {
		return true
	}
	for _, p := range ts {
		if p == "*" || p == typ || (strings.HasSuffix(p, ".*") && strings.HasPrefix(typ, strings.TrimSuffix(p, "*"))) {
			return true
		}
	}
	return false
}

// EventFilter selects a page of the event log.
type EventFilter struct {
	After int64 // events with a larger id
	Upto  int64 // and at most this id; 0 = no bound
	Types EventTypes
	Limit int
}

// Events pages through the event log in id order.
func (ev Events) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	s := ev.s
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := "SELECT id, type, kind, object_id, object_seq, payload, created_at, actor FROM events WHERE id > ?"
	args := []any{f.After}
	if f.Upto > 0 {
		q += " AND id <= ?"
		args = append(args, f.Upto)
	}
	cond, condArgs := f.Types.sql()
	q += cond + " ORDER BY id LIMIT ?"
	args = append(append(args, condArgs...), f.Limit)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// GetEvent returns one event.
func (ev Events) GetEvent(ctx context.Context, id int64) (Event, error) {
	s := ev.s
	e, err := scanEvent(s.rdb.QueryRowContext(ctx,
		"SELECT id, type, kind, object_id, object_seq, payload, created_at, actor FROM events WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, fmt.Errorf("event %d: %w", id, ErrNotFound)
	}
	return e, err
}

func scanEvent(r scanner) (Event, error) {
	var e Event
	var payload string
	var created int64
	if err := r.Scan(&e.ID, &e.Type, &e.Object.Kind, &e.Object.ID, &e.Object.Seq, &payload, &created, &e.Actor); err != nil {
		return Event{}, err
	}
	e.Data = json.RawMessage(payload)
	e.CreatedAt = fromMS(created)
	return e, nil
}

// LastEventID is the id of the newest event, 0 when the log is empty.
func (ev Events) LastEventID(ctx context.Context) (int64, error) {
	s := ev.s
	var id sql.NullInt64
	if err := s.rdb.QueryRowContext(ctx, "SELECT max(id) FROM events").Scan(&id); err != nil {
		return 0, fmt.Errorf("store: read last event id: %w", err)
	}
	return id.Int64, nil
}

// CountEvents counts the events after an id that the types select.
func (ev Events) CountEvents(ctx context.Context, after int64, types EventTypes) (int64, error) {
	s := ev.s
	cond, args := types.sql()
	var n int64
	err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE id > ?"+cond, append([]any{after}, args...)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count events: %w", err)
	}
	return n, nil
}

// WebhookCursor is an endpoint's place in the event log: every event up to
// Cursor was delivered (or skipped by its filter, or dead-lettered). The
// other fields describe the retries of HeadEvent, the first event after it.
type WebhookCursor struct {
	Endpoint  string
	Cursor    int64
	HeadEvent int64
	Attempts  int
	FirstTry  time.Time
	NextAt    time.Time
	LastError string
}

// GetWebhookCursor returns an endpoint's cursor; an endpoint never seen
// before starts at 0, the beginning of what the log still holds.
func (s *Store) GetWebhookCursor(ctx context.Context, endpoint string) (WebhookCursor, error) {
	c := WebhookCursor{Endpoint: endpoint}
	var first, next int64
	err := s.rdb.QueryRowContext(ctx, `SELECT cursor, head_event, attempts, first_try, next_at, last_error
		FROM webhook_cursors WHERE endpoint = ?`, endpoint).Scan(&c.Cursor, &c.HeadEvent, &c.Attempts, &first, &next, &c.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("store: read webhook cursor: %w", err)
	}
	c.FirstTry, c.NextAt = fromMS(first), fromMS(next)
	return c, nil
}

// SaveWebhookCursor stores an endpoint's cursor and retry state. The cursor
// never moves backwards: a stale save cannot re-deliver what was confirmed.
func (s *Store) SaveWebhookCursor(ctx context.Context, c WebhookCursor) error {
	return s.Write(ctx, func(t *Tx) error { return saveCursor(t, c) })
}

func saveCursor(t *Tx, c WebhookCursor) error {
	_, err := t.exec(`INSERT INTO webhook_cursors (endpoint, cursor, head_event, attempts, first_try, next_at, last_error)
		VALUES (?,?,?,?,?,?,?)
		ON CONFLICT(endpoint) DO UPDATE SET cursor = max(cursor, excluded.cursor), head_event = excluded.head_event,
			attempts = excluded.attempts, first_try = excluded.first_try, next_at = excluded.next_at,
			last_error = excluded.last_error`,
		c.Endpoint, c.Cursor, c.HeadEvent, c.Attempts, ms(c.FirstTry), ms(c.NextAt), c.LastError)
	if err != nil {
		return fmt.Errorf("store: save webhook cursor: %w", err)
	}
	return nil
}

// DeadLetter is an event an endpoint gave up on.
type DeadLetter struct {
	ID        int64
	Endpoint  string
	EventID   int64
	EventType string
	Attempts  int
	FirstTry  time.Time
	LastError string
	CreatedAt time.Time
}

// GiveUp moves an endpoint's head event to the dead letters and advances its
// cursor past it, in one transaction, so the event is neither lost nor
// retried forever.
func (s *Store) GiveUp(ctx context.Context, c WebhookCursor) error {
	return s.Write(ctx, func(t *Tx) error {
		if _, err := t.exec(`INSERT INTO dead_letters (endpoint, event_id, attempts, first_try, last_error, created_at)
			VALUES (?,?,?,?,?,?)`, c.Endpoint, c.HeadEvent, c.Attempts, ms(c.FirstTry), c.LastError, ms(t.now)); err != nil {
			return fmt.Errorf("store: add dead letter: %w", err)
		}
		return saveCursor(t, WebhookCursor{Endpoint: c.Endpoint, Cursor: c.HeadEvent})
	})
}

// DeadLetters lists dead letters in id order, after the given id; an empty
// endpoint means every endpoint.
func (s *Store) DeadLetters(ctx context.Context, endpoint string, after int64, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT d.id, d.endpoint, d.event_id, coalesce(e.type, ''), d.attempts,
		d.first_try, d.last_error, d.created_at
		FROM dead_letters d LEFT JOIN events e ON e.id = d.event_id
		WHERE d.id > ? AND (? = '' OR d.endpoint = ?) ORDER BY d.id LIMIT ?`, after, endpoint, endpoint, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		var first, created int64
		if err := rows.Scan(&d.ID, &d.Endpoint, &d.EventID, &d.EventType, &d.Attempts, &first, &d.LastError, &created); err != nil {
			return nil, err
		}
		d.FirstTry, d.CreatedAt = fromMS(first), fromMS(created)
		out = append(out, d)
	}
	return out, rows.Err()
}

// GetDeadLetter returns one dead letter.
func (s *Store) GetDeadLetter(ctx context.Context, id int64) (DeadLetter, error) {
	var d DeadLetter
	var first, created int64
	err := s.rdb.QueryRowContext(ctx, `SELECT d.id, d.endpoint, d.event_id, coalesce(e.type, ''), d.attempts,
		d.first_try, d.last_error, d.created_at
		FROM dead_letters d LEFT JOIN events e ON e.id = d.event_id WHERE d.id = ?`, id).
		Scan(&d.ID, &d.Endpoint, &d.EventID, &d.EventType, &d.Attempts, &first, &d.LastError, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("dead letter %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("store: read dead letter: %w", err)
	}
	d.FirstTry, d.CreatedAt = fromMS(first), fromMS(created)
	return d, nil
}

// CountDeadLetters counts an endpoint's dead letters.
func (s *Store) CountDeadLetters(ctx context.Context, endpoint string) (int64, error) {
	var n int64
	err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM dead_letters WHERE endpoint = ?", endpoint).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count dead letters: %w", err)
	}
	return n, nil
}

// DeadLetterRetried records a manual re-delivery: a delivered letter is
// removed, a failed one keeps its place with the new error.
func (s *Store) DeadLetterRetried(ctx context.Context, id int64, delivered bool, lastError string) error {
	return s.Write(ctx, func(t *Tx) error {
		var res sql.Result
		var err error
		if delivered {
			res, err = t.exec("DELETE FROM dead_letters WHERE id = ?", id)
		} else {
			res, err = t.exec("UPDATE dead_letters SET attempts = attempts + 1, last_error = ? WHERE id = ?", lastError, id)
		}
		if err != nil {
			return fmt.Errorf("store: update dead letter: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("dead letter %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

// EventTypes lists, in order, the types of the events about one object.
func (ev Events) EventTypes(ctx context.Context, kind, objectID string) ([]string, error) {
	s := ev.s
	rows, err := s.rdb.QueryContext(ctx, "SELECT type FROM events WHERE kind=? AND object_id=? ORDER BY id", kind, objectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ string
		if err := rows.Scan(&typ); err != nil {
			return nil, err
		}
		out = append(out, typ)
	}
	return out, rows.Err()
}
