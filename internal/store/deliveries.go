package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Deliveries are where each follower of the event log has got to: the
// webhooks' cursors with their retries and dead letters, and the cursors of
// the fleet's publisher and claim finisher (followers.go).
type Deliveries struct{ s *Store }

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
func (dl Deliveries) GetWebhookCursor(ctx context.Context, endpoint string) (WebhookCursor, error) {
	s := dl.s
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
func (dl Deliveries) SaveWebhookCursor(ctx context.Context, c WebhookCursor) error {
	s := dl.s
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
func (dl Deliveries) GiveUp(ctx context.Context, c WebhookCursor) error {
	s := dl.s
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
func (dl Deliveries) DeadLetters(ctx context.Context, endpoint string, after int64, limit int) ([]DeadLetter, error) {
	s := dl.s
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
func (dl Deliveries) GetDeadLetter(ctx context.Context, id int64) (DeadLetter, error) {
	s := dl.s
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
func (dl Deliveries) CountDeadLetters(ctx context.Context, endpoint string) (int64, error) {
	s := dl.s
	var n int64
	err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM dead_letters WHERE endpoint = ?", endpoint).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count dead letters: %w", err)
	}
	return n, nil
}

// DeadLetterRetried records a manual re-delivery: a delivered letter is
// removed, a failed one keeps its place with the new error.
func (dl Deliveries) DeadLetterRetried(ctx context.Context, id int64, delivered bool, lastError string) error {
	s := dl.s
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
