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

// preparedTypes is the longest type filter whose query is kept prepared.
const preparedTypes = 16

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
	// The fleet's publisher and claim finisher read the log after every
	// commit: a statement prepared once saves parsing it each time. The
	// text depends on the filter's shape only; a long filter (an API
	// caller's) is not kept.
	var rows *sql.Rows
	var err error
	if len(f.Types) <= preparedTypes {
		rows, err = s.reader(ctx).Query(q, args...)
	} else {
		rows, err = s.rdb.QueryContext(ctx, q, args...)
	}
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
