package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Rows: how messages and their parts are read, from a transaction or the
// reader pool, and how times and flags are stored.

// querier is what reading a message needs; both *sql.Tx and a reader pool
// provide it.
type querier interface {
	QueryRow(q string, args ...any) *sql.Row
	Query(q string, args ...any) (*sql.Rows, error)
}

// readerOf runs reads on the reader pool through prepared statements.
type readerOf struct {
	ctx   context.Context
	stmts *stmtCache
	db    *sql.DB
}

func (s *Store) reader(ctx context.Context) readerOf { return readerOf{ctx, s.rstmts, s.rdb} }

func (r readerOf) QueryRow(q string, args ...any) *sql.Row {
	st, err := r.stmts.get(q)
	if err != nil {
		return r.db.QueryRowContext(r.ctx, q, args...) // reports the error
	}
	return st.QueryRowContext(r.ctx, args...)
}
func (r readerOf) Query(q string, args ...any) (*sql.Rows, error) {
	st, err := r.stmts.get(q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(r.ctx, args...)
}

const messageColumns = `id, reference, to_number, body, body_blanked, encoding, parts, pin_modem, pin_operator,
	report, concat_ref, state, seq, iccid, modem_id, attempts, next_attempt, created_at, expires_at,
	updated_at, sent_at, final_at, error_code, error_text`

type scanner interface{ Scan(dest ...any) error }

func scanMessage(r scanner) (*Message, error) {
	var m Message
	var blanked, report int
	var next, created, expires, updated, sent, final int64
	var code, text string
	err := r.Scan(&m.ID, &m.Reference, &m.To, &m.Text, &blanked, &m.Encoding, &m.Parts, &m.PinModem,
		&m.PinOperator, &report, &m.ConcatRef, &m.State, &m.Seq, &m.ICCID, &m.ModemID, &m.Attempts,
		&next, &created, &expires, &updated, &sent, &final, &code, &text)
	if err != nil {
		return nil, err
	}
	m.TextBlanked, m.Report = blanked != 0, report != 0
	m.NextAttempt, m.CreatedAt, m.ExpiresAt = fromMS(next), fromMS(created), fromMS(expires)
	m.UpdatedAt, m.SentAt, m.FinalAt = fromMS(updated), fromMS(sent), fromMS(final)
	if code != "" || text != "" {
		m.Error = &ErrorInfo{Code: code, Message: text}
	}
	return &m, nil
}

func getMessage(q querier, id string) (*Message, error) {
	m, err := scanMessage(q.QueryRow("SELECT "+messageColumns+" FROM messages WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("message %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if err := loadParts(q.Query, []*Message{m}); err != nil {
		return nil, err
	}
	return m, nil
}

// loadParts fills in the part lists of msgs with one query, so a listing
// shows the same parts as a single message (and an empty list, never null).
func loadParts(query func(q string, args ...any) (*sql.Rows, error), msgs []*Message) error {
	if len(msgs) == 0 {
		return nil
	}
	byID := make(map[string]*Message, len(msgs))
	args := make([]any, len(msgs))
	for i, m := range msgs {
		m.PartList = []Part{}
		byID[m.ID] = m
		args[i] = m.ID
	}
	rows, err := query("SELECT message_id, seq, state, mr, sent_at, report_at, report_status FROM message_parts WHERE message_id IN (?"+
		strings.Repeat(", ?", len(msgs)-1)+") ORDER BY message_id, seq", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var p Part
		var mr, status int
		var sent, report int64
		if err := rows.Scan(&id, &p.Seq, &p.State, &mr, &sent, &report, &status); err != nil {
			return err
		}
		if mr >= 0 {
			p.MR = &mr
		}
		if status >= 0 {
			p.ReportStatus = &status
		}
		p.SentAt, p.ReportAt = fromMS(sent), fromMS(report)
		byID[id].PartList = append(byID[id].PartList, p)
	}
	return rows.Err()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
