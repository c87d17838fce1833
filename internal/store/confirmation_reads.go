package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// Reads of confirmations: one, a page, the due and the pending, a customer's
// usage, and what the event log says changed.

const confirmationColumns = `rowid, id, phone, txn, amount, currency, customer_operator, body, cancel_words, state,
	version, reason, message_id, iccid, reply_inbox_id, parts, created_at, expires_at, sent_at, final_at, updated_at`

func scanConfirmation(r scanner) (*Confirmation, error) {
	var c Confirmation
	var amount, created, expires, sent, final, updated int64
	var words string
	err := r.Scan(&c.rowID, &c.ID, &c.Phone, &c.Txn, &amount, &c.Currency, &c.CustomerOperator, &c.Text, &words,
		&c.State, &c.Version, &c.Reason, &c.MessageID, &c.ICCID, &c.ReplyID, &c.Parts, &created, &expires, &sent,
		&final, &updated)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(words), &c.CancelWords); err != nil {
		return nil, fmt.Errorf("confirmation %s: cancel words: %w", c.ID, err)
	}
	c.Amount = ussd.AmountFromKopecks(amount)
	c.CreatedAt, c.ExpiresAt, c.SentAt = fromMS(created), fromMS(expires), fromMS(sent)
	c.FinalAt, c.UpdatedAt = fromMS(final), fromMS(updated)
	return &c, nil
}

func getConfirmation(q querier, id string) (*Confirmation, error) {
	c, err := scanConfirmation(q.QueryRow("SELECT "+confirmationColumns+" FROM confirmations WHERE id=?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("confirmation %s: %w", id, ErrNotFound)
	}
	return c, err
}

// GetConfirmation returns one confirmation.
func (cs Confirmations) GetConfirmation(ctx context.Context, id string) (*Confirmation, error) {
	s := cs.s
	return getConfirmation(s.reader(ctx), id)
}

// ConfirmationsDue returns the confirmations whose deadline is at or before
// by and that are still pending, soonest first.
func (cs Confirmations) ConfirmationsDue(ctx context.Context, by time.Time) ([]*Confirmation, error) {
	s := cs.s
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+confirmationColumns+` FROM confirmations
		WHERE state IN (?,?) AND expires_at<=? ORDER BY expires_at`, payment.Queued, payment.Sent, ms(by))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Confirmation
	for rows.Next() {
		c, err := scanConfirmation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// NextConfirmationDue is the earliest deadline of a confirmation still
// queued or sent; ok is false when none is.
func (cs Confirmations) NextConfirmationDue(ctx context.Context) (at time.Time, ok bool, err error) {
	s := cs.s
	var next sql.NullInt64
	err = s.reader(ctx).QueryRow("SELECT min(expires_at) FROM confirmations WHERE state IN (?,?)",
		payment.Queued, payment.Sent).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, false, err
	}
	return fromMS(next.Int64), true, nil
}

// PendingConfirmations counts the confirmations still queued or sent.
func (cs Confirmations) PendingConfirmations(ctx context.Context) (int, error) {
	s := cs.s
	var n int
	err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM confirmations WHERE state IN (?,?)",
		payment.Queued, payment.Sent).Scan(&n)
	return n, err
}

// PendingOnSIM reports whether the customer has a pending confirmation other
// than the one of message except that is bound to SIM iccid: sent through
// it, or queued with its SMS tied to it.
func (cs Confirmations) PendingOnSIM(ctx context.Context, phone, iccid, except string) (bool, error) {
	s := cs.s
	var one int
	err := s.rdb.QueryRowContext(ctx, `SELECT 1 FROM confirmations WHERE phone=? AND state IN (?,?) AND iccid=? AND message_id<>? LIMIT 1`,
		phone, payment.Queued, payment.Sent, iccid, except).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// PaymentUsage sums a customer's confirmed and still pending confirmations
// created since dayStart and monthStart (the day lies within the month): a
// pending one may still be paid, so it counts against a limit until it fails.
func (cs Confirmations) PaymentUsage(ctx context.Context, phone string, dayStart, monthStart time.Time) (payment.Usage, error) {
	s := cs.s
	return paymentUsage(s.reader(ctx), phone, dayStart, monthStart)
}

func paymentUsage(q querier, phone string, dayStart, monthStart time.Time) (payment.Usage, error) {
	var u payment.Usage
	var day, month int64
	err := q.QueryRow(`SELECT COALESCE(SUM(CASE WHEN created_at>=? THEN amount END),0), COALESCE(SUM(amount),0),
		COUNT(CASE WHEN created_at>=? THEN 1 END)
		FROM confirmations WHERE phone=? AND state IN (?,?,?) AND created_at>=?`,
		ms(dayStart), ms(dayStart), phone, payment.Queued, payment.Sent, payment.Confirmed,
		ms(monthStart)).Scan(&day, &month, &u.DayPayments)
	if err != nil {
		return u, err
	}
	u.Day, u.Month = ussd.AmountFromKopecks(day), ussd.AmountFromKopecks(month)
	return u, nil
}

// ConfirmationFilter selects confirmations for listing.
type ConfirmationFilter struct {
	State payment.State // "" = any
	Since time.Time     // created at or after
	After string        // cursor: next of the previous page
	Limit int
}

// ListConfirmations pages through confirmations in the order they were
// created. next is the cursor of the following page, "" at the end.
func (cs Confirmations) ListConfirmations(ctx context.Context, f ConfirmationFilter) (list []*Confirmation, next string, err error) {
	s := cs.s
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var after int64
	if f.After != "" {
		if after, err = strconv.ParseInt(f.After, 10, 64); err != nil || after < 0 {
			return nil, "", fmt.Errorf("%w: cursor %q", ErrBadCursor, f.After)
		}
	}
	list, more, err := listPage(ctx, s.rdb, pageQuery{columns: confirmationColumns, table: "confirmations", key: "rowid",
		after: after, since: f.Since, state: string(f.State), limit: f.Limit}, scanConfirmation)
	if more {
		next = strconv.FormatInt(list[len(list)-1].rowID, 10)
	}
	return list, next, err
}

// ErrBadCursor is returned for a paging cursor this store never handed out.
var ErrBadCursor = errors.New("invalid cursor")

// ConfirmationChanges is what the event log says happened to confirmations
// after an event id.
type ConfirmationChanges struct {
	Last    int64 // the id to pass next time
	Changed bool  // a confirmation was created or moved
	Decided bool  // one became final
}

// ConfirmationsChangedSince reads the event log after event id after.
// Watching the log this way sees changes made inside other writers'
// transactions (a reply stored by a modem owner, a failed send).
func (cs Confirmations) ConfirmationsChangedSince(ctx context.Context, after int64) (ConfirmationChanges, error) {
	s := cs.s
	var n, decided int
	c := ConfirmationChanges{}
	err := s.reader(ctx).QueryRow(`SELECT COALESCE(MAX(id), ?), COUNT(CASE WHEN kind='confirmation' THEN 1 END),
		COUNT(CASE WHEN kind='confirmation' AND type IN (?,?,?,?) THEN 1 END)
		FROM events WHERE id > ?`, after,
		"confirmation."+payment.Confirmed, "confirmation."+payment.Cancelled,
		"confirmation."+payment.Expired, "confirmation."+payment.Failed, after).Scan(&c.Last, &n, &decided)
	c.Changed, c.Decided = n > 0, decided > 0
	return c, err
}
