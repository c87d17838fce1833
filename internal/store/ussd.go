package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// USSD keeps the USSD sessions (which modem is held by which exchange) and
// the dialect learned per modem model and firmware.
type USSD struct{ s *Store }

// USSDDialect returns the dialect learned for a modem model and firmware.
func (us USSD) USSDDialect(ctx context.Context, modelFirmware string) (string, error) {
	s := us.s
	var d string
	err := s.rdb.QueryRowContext(ctx, "SELECT dialect FROM ussd_dialects WHERE model_firmware=?", modelFirmware).Scan(&d)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("ussd dialect: %w", ErrNotFound)
	}
	return d, err
}

// SaveUSSDDialect remembers the dialect a modem model and firmware showed.
func (us USSD) SaveUSSDDialect(ctx context.Context, modelFirmware, dialect string) error {
	s := us.s
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
func (us USSD) ClaimUSSD(ctx context.Context, u USSDSession) (USSDSession, error) {
	s := us.s
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
func (us USSD) GetUSSDSession(ctx context.Context, id string) (USSDSession, error) {
	s := us.s
	u, err := scanUSSD(s.rdb.QueryRowContext(ctx, "SELECT "+ussdColumns+" FROM ussd_sessions WHERE id=?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("ussd session %s: %w", id, ErrNotFound)
	}
	return u, err
}

// MoveUSSD changes a live session's state from one to another; ErrConflict
// when it is not in from (an answer racing another, or the session ended).
// Moving to USSDClosed records reason and the time.
func (us USSD) MoveUSSD(ctx context.Context, id, from, to, reason string) (USSDSession, error) {
	s := us.s
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
func (us USSD) LiveUSSDSessions(ctx context.Context) ([]USSDSession, error) {
	s := us.s
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
func (us USSD) CloseStaleUSSD(ctx context.Context, before time.Time) (int, error) {
	s := us.s
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
