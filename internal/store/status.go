package store

import (
	"context"
	"fmt"
	"time"
)

// The status page polls every few seconds, so these reads are single indexed
// queries on the reader pool and never queue behind the writer.

// RecentMessages returns the n newest messages, newest first, without parts.
// It orders by created_at, not by id: NewID's lower-case base32 puts the
// digits 2-7 before the letters, so ids do not sort in time order.
func (mg Messages) RecentMessages(ctx context.Context, n int) ([]*Message, error) {
	s := mg.s
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+messageColumns+" FROM messages ORDER BY created_at DESC, id DESC LIMIT ?", n)
	return collect(rows, err, scanMessage)
}

// SentPerSIM counts the parts each SIM sent at or after since, by ICCID;
// SIMs that sent nothing are absent.
func (dv Devices) SentPerSIM(ctx context.Context, since time.Time) (map[string]int, error) {
	s := dv.s
	rows, err := s.rdb.QueryContext(ctx, "SELECT iccid, COUNT(*) FROM message_parts WHERE sent_at>=? AND iccid!='' GROUP BY iccid", ms(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var iccid string
		var n int
		if err := rows.Scan(&iccid, &n); err != nil {
			return nil, err
		}
		out[iccid] = n
	}
	return out, rows.Err()
}

// BalanceSummary is what a glance at a SIM's balance needs: the newest amount
// that was read with certainty and whether the SIM is below its threshold.
type BalanceSummary struct {
	Amount    string
	Currency  string
	CheckedAt time.Time
	Low       bool
}

// BalanceSummaries returns, by ICCID, each SIM's newest parsed balance. A
// reading that could not be parsed never hides the last good amount.
func (bs Balances) BalanceSummaries(ctx context.Context) (map[string]BalanceSummary, error) {
	s := bs.s
	rows, err := s.rdb.QueryContext(ctx, `SELECT b.iccid, b.amount, b.currency, b.checked_at, COALESCE(st.low, 0)
		FROM balances b LEFT JOIN balance_state st ON st.iccid = b.iccid
		WHERE b.id = (SELECT id FROM balances WHERE iccid = b.iccid AND parsed = 1 ORDER BY checked_at DESC, id DESC LIMIT 1)`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]BalanceSummary{}
	for rows.Next() {
		var iccid string
		var b BalanceSummary
		var at int64
		if err := rows.Scan(&iccid, &b.Amount, &b.Currency, &at, &b.Low); err != nil {
			return nil, err
		}
		b.CheckedAt = fromMS(at)
		out[iccid] = b
	}
	return out, rows.Err()
}

// MessagesByState counts messages by state; states without one are absent.
func (mg Messages) MessagesByState(ctx context.Context) (map[string]int64, error) {
	s := mg.s
	return s.countByState(ctx, "messages")
}

// ConfirmationsByState counts confirmations by state; states without one are
// absent.
func (cs Confirmations) ConfirmationsByState(ctx context.Context) (map[string]int64, error) {
	s := cs.s
	return s.countByState(ctx, "confirmations")
}

// countByState runs on a fixed table name, never on input: a GROUP BY over
// the table's state index, on the reader pool.
func (s *Store) countByState(ctx context.Context, table string) (map[string]int64, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT state, count(*) FROM "+table+" GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("count %s by state: %w", table, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count %s by state: %w", table, err)
		}
		out[state] = n
	}
	return out, rows.Err()
}
