package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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

// RecordBalance stores a reading and updates the SIM's low-balance state.
// low says whether the reading is under the SIM's threshold (the caller
// compares the amounts); it only counts for a parsed reading with a
// threshold. A balance.low event is appended, in the same transaction, only
// when the SIM crosses from not low to low, so a SIM that stays low is
// announced once; a reading at or over the threshold re-arms it. crossed
// reports whether the event was appended. A non-zero next is the SIM's next
// scheduled check, written in the same transaction: a reader never sees the
// new reading beside the schedule of the check that produced it.
func (s *Store) RecordBalance(ctx context.Context, b Balance, threshold string, low bool, next time.Time) (crossed bool, err error) {
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
func (s *Store) NoteBalanceFailure(ctx context.Context, iccid, reason string, next time.Time) error {
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
func (s *Store) LatestBalances(ctx context.Context, iccid string) (last, lastParsed *Balance, err error) {
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
func (s *Store) GetBalanceState(ctx context.Context, iccid string) (BalanceState, error) {
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
func (s *Store) WatchBalance(ctx context.Context, iccid string, first time.Time) error {
	return s.Write(ctx, func(t *Tx) error {
		_, err := t.exec(`INSERT INTO balance_state (iccid, next_check) VALUES (?,?)
			ON CONFLICT(iccid) DO UPDATE SET next_check=excluded.next_check WHERE balance_state.next_check=0`, iccid, ms(first))
		return err
	})
}

// ScheduleBalanceCheck sets when a SIM's balance is checked next.
func (s *Store) ScheduleBalanceCheck(ctx context.Context, iccid string, at time.Time) error {
	return s.Write(ctx, func(t *Tx) error {
		_, err := t.exec(`INSERT INTO balance_state (iccid, next_check) VALUES (?,?)
			ON CONFLICT(iccid) DO UPDATE SET next_check=excluded.next_check`, iccid, ms(at))
		return err
	})
}

// NextBalanceCheck is the earliest check scheduled after now; ok is false
// when none is.
func (s *Store) NextBalanceCheck(ctx context.Context, now time.Time) (at time.Time, ok bool, err error) {
	var next sql.NullInt64
	err = s.rdb.QueryRowContext(ctx, "SELECT min(next_check) FROM balance_state WHERE next_check > ?", ms(now)).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, false, err
	}
	return fromMS(next.Int64), true, nil
}

// BalanceChecksDue lists the SIMs whose check is due at now, earliest first.
func (s *Store) BalanceChecksDue(ctx context.Context, now time.Time) ([]string, error) {
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

// ServiceSMSSince returns the first complete SMS a SIM received at or after
// since from one of senders, or ErrNotFound. It finds the operator's balance
// SMS after a USSD reply announced one. Senders compare without case and
// without a leading '+': some modems and networks show short codes as
// international numbers ("+611").
func (s *Store) ServiceSMSSince(ctx context.Context, iccid string, senders []string, since time.Time) (*InboxMessage, error) {
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

// USSDDialect returns the dialect learned for a modem model and firmware.
func (s *Store) USSDDialect(ctx context.Context, modelFirmware string) (string, error) {
	var d string
	err := s.rdb.QueryRowContext(ctx, "SELECT dialect FROM ussd_dialects WHERE model_firmware=?", modelFirmware).Scan(&d)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("ussd dialect: %w", ErrNotFound)
	}
	return d, err
}

// SaveUSSDDialect remembers the dialect a modem model and firmware showed.
func (s *Store) SaveUSSDDialect(ctx context.Context, modelFirmware, dialect string) error {
	return s.Write(ctx, func(t *Tx) error {
		_, err := t.exec(`INSERT INTO ussd_dialects (model_firmware, dialect, learned_at) VALUES (?,?,?)
			ON CONFLICT(model_firmware) DO UPDATE SET dialect=excluded.dialect, learned_at=excluded.learned_at`, modelFirmware, dialect, ms(t.now))
		return err
	})
}

// USSD session states. A live session holds its modem.
const (
	USSDRunning = "running" // a request is on the air
	USSDOpen    = "open"    // the network waits for the user's answer
	USSDClosed  = "closed"
)

// USSDSession is a USSD exchange or interactive session holding a modem.
type USSDSession struct {
	ID          string
	ModemID     string
	ICCID       string
	Purpose     string // "api" or "balance"
	State       string
	StartedAt   time.Time
	ExpiresAt   time.Time
	ClosedAt    time.Time
	CloseReason string
}

// USSDBusyError is returned when a modem already has a live session.
type USSDBusyError struct{ Holder USSDSession }

func (e *USSDBusyError) Error() string {
	return fmt.Sprintf("modem %s is in USSD session %s since %s", e.Holder.ModemID, e.Holder.ID, e.Holder.StartedAt.Format(time.RFC3339))
}

const ussdColumns = "id, modem_id, iccid, purpose, state, started_at, expires_at, closed_at, close_reason"

func scanUSSD(r scanner) (USSDSession, error) {
	var u USSDSession
	var started, expires, closed int64
	err := r.Scan(&u.ID, &u.ModemID, &u.ICCID, &u.Purpose, &u.State, &started, &expires, &closed, &u.CloseReason)
	u.StartedAt, u.ExpiresAt, u.ClosedAt = fromMS(started), fromMS(expires), fromMS(closed)
	return u, err
}

// ClaimUSSD makes u the live session of its modem, in state running. If the
// modem has a live session already, the error is a *USSDBusyError naming it.
func (s *Store) ClaimUSSD(ctx context.Context, u USSDSession) (USSDSession, error) {
	err := s.Write(ctx, func(t *Tx) error {
		holder, err := scanUSSD(t.queryRow("SELECT "+ussdColumns+" FROM ussd_sessions WHERE modem_id=? AND state IN (?,?)", u.ModemID, USSDRunning, USSDOpen))
		if err == nil {
			return &USSDBusyError{Holder: holder}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		u.State, u.StartedAt = USSDRunning, fromMS(ms(t.now))
		_, err = t.exec("INSERT INTO ussd_sessions ("+ussdColumns+") VALUES (?,?,?,?,?,?,?,0,'')",
			u.ID, u.ModemID, u.ICCID, u.Purpose, u.State, ms(u.StartedAt), ms(u.ExpiresAt))
		return err
	})
	return u, err
}

// GetUSSDSession returns one session, live or closed.
func (s *Store) GetUSSDSession(ctx context.Context, id string) (USSDSession, error) {
	u, err := scanUSSD(s.rdb.QueryRowContext(ctx, "SELECT "+ussdColumns+" FROM ussd_sessions WHERE id=?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("ussd session %s: %w", id, ErrNotFound)
	}
	return u, err
}

// MoveUSSD changes a live session's state from one to another; ErrConflict
// when it is not in from (an answer racing another, or the session ended).
// Moving to USSDClosed records reason and the time.
func (s *Store) MoveUSSD(ctx context.Context, id, from, to, reason string) (USSDSession, error) {
	var u USSDSession
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		u, err = scanUSSD(t.queryRow("SELECT "+ussdColumns+" FROM ussd_sessions WHERE id=?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("ussd session %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if u.State != from {
			return fmt.Errorf("ussd session %s is %s, not %s: %w", id, u.State, from, ErrConflict)
		}
		u.State = to
		if to == USSDClosed {
			u.ClosedAt, u.CloseReason = t.now, reason
		}
		_, err = t.exec("UPDATE ussd_sessions SET state=?, closed_at=?, close_reason=? WHERE id=?", u.State, ms(u.ClosedAt), u.CloseReason, id)
		return err
	})
	return u, err
}

// LiveUSSDSessions lists the sessions holding a modem.
func (s *Store) LiveUSSDSessions(ctx context.Context) ([]USSDSession, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+ussdColumns+" FROM ussd_sessions WHERE state IN (?,?) ORDER BY started_at", USSDRunning, USSDOpen)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []USSDSession
	for rows.Next() {
		u, err := scanUSSD(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CloseStaleUSSD closes every session started before a daemon start: the
// process that ran it is gone, and with it any wait for the network.
func (s *Store) CloseStaleUSSD(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.Write(ctx, func(t *Tx) error {
		res, err := t.exec("UPDATE ussd_sessions SET state=?, closed_at=?, close_reason='daemon restarted' WHERE state IN (?,?) AND started_at<?",
			USSDClosed, ms(t.now), USSDRunning, USSDOpen, ms(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
