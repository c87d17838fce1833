package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
)

// Balance is one balance reading as stored (BalanceView makes the API's). Amount
// is a decimal string ("151.25", "-12.30"), never a float; it is "" when the
// reply could not be read with certainty, and Text and Raw keep the reply
// whatever happened.
type Balance struct {
	ICCID     string
	ModemID   string
	Amount    string
	Currency  string
	Parsed    bool
	Text      string
	Raw       string
	Source    string // "ussd" or "sms"
	CheckedAt time.Time
}

// BalanceState is what the daemon remembers about a SIM's balance checks:
// the low-balance hysteresis, the next scheduled check and the counters an
// operator watches.
type BalanceState struct {
	Low           bool
	LowSince      time.Time
	NextCheck     time.Time
	Checks        int
	ParseFailures int
	CheckFailures int
	LastError     string
	LastErrorAt   time.Time
}

// Balances are the SIMs' balance readings, their low state and the schedule
// of balance checks.
type Balances struct{ s *Store }

// RecordBalance stores a reading and updates the SIM's low-balance state.
// low says whether the reading is under the SIM's threshold (the caller
// compares the amounts); it only counts for a parsed reading with a
// threshold. A balance.low event is appended, in the same transaction, only
// when the SIM crosses from not low to low, so a SIM that stays low is
// announced once; a reading at or over the threshold re-arms it. crossed
// reports whether the event was appended. A non-zero next is the SIM's next
// scheduled check, written in the same transaction: a reader never sees the
// new reading beside the schedule of the check that produced it.
func (bs Balances) RecordBalance(ctx context.Context, b Balance, threshold string, low bool, next time.Time) (crossed bool, err error) {
	s := bs.s
	err = s.Write(ctx, func(t *Tx) error {
		crossed = false
		if b.CheckedAt.IsZero() {
			b.CheckedAt = t.now
		}
		if _, err := t.exec(`INSERT INTO balances (iccid, modem_id, amount, currency, parsed, raw, body, source, checked_at)
			VALUES (?,?,?,?,?,?,?,?,?)`, b.ICCID, b.ModemID, b.Amount, b.Currency, boolInt(b.Parsed), b.Raw, b.Text, b.Source, ms(b.CheckedAt)); err != nil {
			return err
		}
		if _, err := t.exec(`INSERT INTO balance_state (iccid) VALUES (?) ON CONFLICT(iccid) DO NOTHING`, b.ICCID); err != nil {
			return err
		}
		if err := scheduleCheck(t, b.ICCID, next); err != nil {
			return err
		}
		if !b.Parsed {
			_, err := t.exec(`UPDATE balance_state SET checks=checks+1, parse_failures=parse_failures+1 WHERE iccid=?`, b.ICCID)
			return err
		}
		var wasLow int
		if err := t.queryRow("SELECT low FROM balance_state WHERE iccid=?", b.ICCID).Scan(&wasLow); err != nil {
			return err
		}
		nowLow := low && threshold != ""
		switch {
		case nowLow && wasLow == 0:
			if _, err := t.exec(`UPDATE balance_state SET checks=checks+1, low=1, low_since=? WHERE iccid=?`, ms(b.CheckedAt), b.ICCID); err != nil {
				return err
			}
			sim, err := getSIM(t, b.ICCID)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			if errors.Is(err, ErrNotFound) {
				sim = SIM{ICCID: b.ICCID}
			}
			var seq int
			if err := t.queryRow("SELECT COALESCE(MAX(object_seq), 0) + 1 FROM events WHERE kind='sim' AND object_id=?", b.ICCID).Scan(&seq); err != nil {
				return err
			}
			crossed = true
			return appendEvent(t, "balance.low", "sim", b.ICCID, seq, api.BalanceLow{SIM: SIMView(&sim), Balance: *BalanceView(&b), Threshold: threshold})
		case !nowLow:
			_, err := t.exec(`UPDATE balance_state SET checks=checks+1, low=0, low_since=0 WHERE iccid=?`, b.ICCID)
			return err
		}
		_, err := t.exec(`UPDATE balance_state SET checks=checks+1 WHERE iccid=?`, b.ICCID)
		return err
	})
	return crossed, err
}

// NoteBalanceFailure counts a check that got no reading at all (no answer,
// a refusal); it leaves the low state alone. A non-zero next is the SIM's
// next scheduled check, written in the same transaction.
func (bs Balances) NoteBalanceFailure(ctx context.Context, iccid, reason string, next time.Time) error {
	s := bs.s
	return s.Write(ctx, func(t *Tx) error {
		if _, err := t.exec(`INSERT INTO balance_state (iccid, check_failures, last_error, last_error_at) VALUES (?,1,?,?)
			ON CONFLICT(iccid) DO UPDATE SET check_failures=check_failures+1, last_error=excluded.last_error,
			last_error_at=excluded.last_error_at`, iccid, reason, ms(t.now)); err != nil {
			return err
		}
		return scheduleCheck(t, iccid, next)
	})
}

// scheduleCheck sets a SIM's next check inside a transaction that already
// made its balance_state row; a zero next leaves the schedule alone.
func scheduleCheck(t *Tx, iccid string, next time.Time) error {
	if next.IsZero() {
		return nil
	}
	_, err := t.exec(`UPDATE balance_state SET next_check=? WHERE iccid=?`, ms(next), iccid)
	return err
}

// LatestBalances returns a SIM's newest reading and its newest parsed one;
// either is nil when there is none.
func (bs Balances) LatestBalances(ctx context.Context, iccid string) (last, lastParsed *Balance, err error) {
	s := bs.s
	const cols = "iccid, modem_id, amount, currency, parsed, raw, body, source, checked_at"
	if last, err = scanBalance(s.rdb.QueryRowContext(ctx, "SELECT "+cols+" FROM balances WHERE iccid=? ORDER BY checked_at DESC, id DESC LIMIT 1", iccid)); err != nil {
		return nil, nil, err
	}
	if lastParsed, err = scanBalance(s.rdb.QueryRowContext(ctx, "SELECT "+cols+" FROM balances WHERE iccid=? AND parsed=1 ORDER BY checked_at DESC, id DESC LIMIT 1", iccid)); err != nil {
		return nil, nil, err
	}
	return last, lastParsed, nil
}

func scanBalance(r scanner) (*Balance, error) {
	var b Balance
	var parsed int
	var at int64
	err := r.Scan(&b.ICCID, &b.ModemID, &b.Amount, &b.Currency, &parsed, &b.Raw, &b.Text, &b.Source, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b.Parsed, b.CheckedAt = parsed != 0, fromMS(at)
	return &b, nil
}

// GetBalanceState returns a SIM's balance state; the zero state when the SIM
// was never checked.
func (bs Balances) GetBalanceState(ctx context.Context, iccid string) (BalanceState, error) {
	s := bs.s
	var st BalanceState
	var low int
	var since, next, errAt int64
	err := s.rdb.QueryRowContext(ctx, `SELECT low, low_since, next_check, checks, parse_failures, check_failures, last_error, last_error_at
		FROM balance_state WHERE iccid=?`, iccid).Scan(&low, &since, &next, &st.Checks, &st.ParseFailures, &st.CheckFailures, &st.LastError, &errAt)
	if errors.Is(err, sql.ErrNoRows) {
		return BalanceState{}, nil
	}
	st.Low, st.LowSince, st.NextCheck, st.LastErrorAt = low != 0, fromMS(since), fromMS(next), fromMS(errAt)
	return st, err
}

// WatchBalance schedules a SIM's first check at first, unless the SIM
// already has a schedule: a restart must neither skip nor repeat checks.
func (bs Balances) WatchBalance(ctx context.Context, iccid string, first time.Time) error {
	s := bs.s
	return s.Write(ctx, func(t *Tx) error {
		_, err := t.exec(`INSERT INTO balance_state (iccid, next_check) VALUES (?,?)
			ON CONFLICT(iccid) DO UPDATE SET next_check=excluded.next_check WHERE balance_state.next_check=0`, iccid, ms(first))
		return err
	})
}

// ScheduleBalanceCheck sets when a SIM's balance is checked next.
func (bs Balances) ScheduleBalanceCheck(ctx context.Context, iccid string, at time.Time) error {
	s := bs.s
	return s.Write(ctx, func(t *Tx) error {
		_, err := t.exec(`INSERT INTO balance_state (iccid, next_check) VALUES (?,?)
			ON CONFLICT(iccid) DO UPDATE SET next_check=excluded.next_check`, iccid, ms(at))
		return err
	})
}

// NextBalanceCheck is the earliest check scheduled after now; ok is false
// when none is.
func (bs Balances) NextBalanceCheck(ctx context.Context, now time.Time) (at time.Time, ok bool, err error) {
	s := bs.s
	var next sql.NullInt64
	err = s.rdb.QueryRowContext(ctx, "SELECT min(next_check) FROM balance_state WHERE next_check > ?", ms(now)).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, false, err
	}
	return fromMS(next.Int64), true, nil
}

// BalanceChecksDue lists the SIMs whose check is due at now, earliest first.
func (bs Balances) BalanceChecksDue(ctx context.Context, now time.Time) ([]string, error) {
	s := bs.s
	rows, err := s.rdb.QueryContext(ctx, "SELECT iccid FROM balance_state WHERE next_check > 0 AND next_check <= ? ORDER BY next_check, iccid", ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var iccid string
		if err := rows.Scan(&iccid); err != nil {
			return nil, err
		}
		out = append(out, iccid)
	}
	return out, rows.Err()
}
