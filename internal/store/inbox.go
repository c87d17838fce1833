package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Inbox is received SMS and delivery reports: receive.go takes them in,
// this file reads them.
type Inbox struct{ s *Store }

// Inbox pages through received messages in id order.
func (in Inbox) Inbox(ctx context.Context, after int64, since time.Time, limit int) ([]*InboxMessage, error) {
	s := in.s
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+inboxColumns+" FROM inbox WHERE id > ? AND received_at >= ? ORDER BY id LIMIT ?",
		after, ms(since), limit)
	return collect(rows, err, scanInbox)
}

const inboxColumns = "id, iccid, modem_id, sender, body, body_blanked, encoding, plain, complete, parts, scts, received_at"

// GetInbox returns one received message.
func (in Inbox) GetInbox(ctx context.Context, id int64) (*InboxMessage, error) {
	s := in.s
	m, err := scanInbox(s.rdb.QueryRowContext(ctx, "SELECT "+inboxColumns+" FROM inbox WHERE id=?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("inbox message %d: %w", id, ErrNotFound)
	}
	return m, err
}

func scanInbox(r scanner) (*InboxMessage, error) {
	var m InboxMessage
	var blanked, plain, complete int
	var scts, recv int64
	if err := r.Scan(&m.ID, &m.ICCID, &m.ModemID, &m.Sender, &m.Text, &blanked, &m.Encoding, &plain, &complete, &m.Parts, &scts, &recv); err != nil {
		return nil, err
	}
	m.Blanked, m.Plain, m.Complete = blanked != 0, plain != 0, complete != 0
	m.SCTS, m.ReceivedAt = fromMS(scts), fromMS(recv)
	return &m, nil
}

// ServiceSMSSince returns the first complete SMS a SIM received at or after
// since from one of senders, or ErrNotFound. It finds the operator's balance
// SMS after a USSD reply announced one. Senders compare without case and
// without a leading '+': some modems and networks show short codes as
// international numbers ("+611").
func (in Inbox) ServiceSMSSince(ctx context.Context, iccid string, senders []string, since time.Time) (*InboxMessage, error) {
	s := in.s
	if len(senders) == 0 {
		return nil, fmt.Errorf("service SMS: %w", ErrNotFound)
	}
	args := []any{iccid, ms(since)}
	marks := make([]string, len(senders))
	for i, snd := range senders {
		marks[i] = "?"
		args = append(args, strings.TrimLeft(strings.ToLower(snd), "+"))
	}
	m, err := scanInbox(s.rdb.QueryRowContext(ctx, `SELECT id, iccid, modem_id, sender, body, body_blanked, encoding, plain, complete, parts, scts, received_at
		FROM inbox WHERE iccid=? AND received_at>=? AND complete=1 AND ltrim(lower(sender), '+') IN (`+strings.Join(marks, ",")+`) ORDER BY id LIMIT 1`, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("service SMS: %w", ErrNotFound)
	}
	return m, err
}
