package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/sms"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// confirmationRefPrefix marks the outgoing message of a confirmation in its
// reference, so the scheduler's veto can pass every other message without a
// lookup.
const confirmationRefPrefix = "confirmation:"

// cancelNoticeRefPrefix marks the reference of a cancel notice, followed by
// the confirmation's id.
const cancelNoticeRefPrefix = "cancel-notice:"

// Confirmation is a payment confirmation as stored; ConfirmationView makes
// what the API shows of it.
type Confirmation struct {
	ID               string
	Phone            string
	Txn              string
	Amount           ussd.Amount
	Currency         string
	CustomerOperator string
	Text             string
	CancelWords      []string
	State            payment.State
	Version          int
	Reason           string
	MessageID        string
	ICCID            string
	ReplyID          int64
	Parts            int
	CreatedAt        time.Time
	ExpiresAt        time.Time
	SentAt           time.Time
	FinalAt          time.Time
	UpdatedAt        time.Time

	rowID int64
}

// ReservedReference reports whether ref starts like the references the store
// gives its own messages: a caller's message with such a reference would be
// taken for a confirmation's SMS (and go first) or for a cancel notice.
func ReservedReference(ref string) bool {
	return strings.HasPrefix(ref, confirmationRefPrefix) || strings.HasPrefix(ref, cancelNoticeRefPrefix)
}

// IsConfirmationMessage reports whether m is the SMS of a confirmation.
func IsConfirmationMessage(m *Message) bool {
	return strings.HasPrefix(m.Reference, confirmationRefPrefix)
}

// NewConfirmation is what the API accepted.
type NewConfirmation struct {
	ID, Phone, Txn   string
	Amount           ussd.Amount
	Currency         string
	CustomerOperator string
	Text, Encoding   string
	Parts            int
	CancelWords      []string
	TTL              time.Duration
	Fingerprint      string // the normalised request, compared when the id is repeated
	// Usage windows and the limit check, both optional: Admit sees the
	// customer's usage inside the creating transaction, so two payments
	// racing each other cannot both slip under a limit. An error from it
	// refuses the confirmation and is returned as is.
	DayStart, MonthStart time.Time
	Admit                func(payment.Usage) error
}

// Confirmations are payment confirmations: created with their SMS, decided by
// a reply, a cancel or the deadline rule, and counted for quotes and limits.
type Confirmations struct{ s *Store }

// CreateConfirmation stores a confirmation and its outgoing SMS (delivery
// report requested) in one transaction. With an id already seen it returns
// the stored confirmation and existed=true, or ErrConflict when the id came
// with another request. m is nil when the confirmation existed.
func (cs Confirmations) CreateConfirmation(ctx context.Context, n NewConfirmation) (c *Confirmation, m *Message, existed bool, err error) {
	s := cs.s
	words, err := json.Marshal(n.CancelWords)
	if err != nil {
		return nil, nil, false, err
	}
	err = s.Write(ctx, func(t *Tx) error {
		var fp string
		err := t.queryRow("SELECT request FROM confirmations WHERE id=?", n.ID).Scan(&fp)
		switch {
		case err == nil:
			if fp != n.Fingerprint {
				return fmt.Errorf("%w: confirmation %s exists with a different request", ErrConflict, n.ID)
			}
			existed = true
			c, err = getConfirmation(t, n.ID)
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if n.Admit != nil {
			u, err := paymentUsage(t, n.Phone, n.DayStart, n.MonthStart)
			if err != nil {
				return err
			}
			if err := n.Admit(u); err != nil {
				return err
			}
		}
		now := t.now
		m = &Message{
			ID: NewID("msg_", now), Reference: confirmationRefPrefix + n.ID, To: n.Phone, Text: n.Text,
			Encoding: n.Encoding, Parts: n.Parts, Report: true, State: Queued, Seq: 1,
			CreatedAt: now, ExpiresAt: now.Add(n.TTL), UpdatedAt: now,
		}
		if err := insertOutgoing(t, m); err != nil {
			return err
		}
		c = &Confirmation{
			ID: n.ID, Phone: n.Phone, Txn: n.Txn, Amount: n.Amount, Currency: n.Currency,
			CustomerOperator: n.CustomerOperator, Text: n.Text, CancelWords: n.CancelWords,
			State: payment.Queued, Version: 1, MessageID: m.ID, Parts: n.Parts,
			CreatedAt: now, ExpiresAt: m.ExpiresAt, UpdatedAt: now,
		}
		res, err := t.exec(`INSERT INTO confirmations (id, phone, txn, amount, currency, customer_operator, body,
			cancel_words, request, state, version, message_id, parts, created_at, expires_at, updated_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			c.ID, c.Phone, c.Txn, c.Amount.Kopecks(), c.Currency, c.CustomerOperator, c.Text, string(words),
			n.Fingerprint, c.State, c.Version, c.MessageID, c.Parts, ms(now), ms(c.ExpiresAt), ms(now))
		if err != nil {
			return err
		}
		c.rowID, _ = res.LastInsertId()
		return appendEvent(t, "confirmation."+string(c.State), "confirmation", c.ID, c.Version, ConfirmationView(c))
	})
	if err != nil {
		return nil, nil, false, err
	}
	if existed {
		m = nil
	}
	return c, m, existed, nil
}

// insertOutgoing writes a new queued message and its pending parts.
func insertOutgoing(t *Tx, m *Message) error {
	if m.Parts > 1 {
		ref, err := nextConcatRef(t)
		if err != nil {
			return err
		}
		m.ConcatRef = ref
	}
	_, err := t.exec(`INSERT INTO messages (id, reference, to_number, body, encoding, parts, pin_modem,
		pin_operator, report, concat_ref, state, seq, iccid, created_at, expires_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		m.ID, m.Reference, m.To, m.Text, m.Encoding, m.Parts, m.PinModem, m.PinOperator,
		boolInt(m.Report), m.ConcatRef, m.State, m.Seq, m.ICCID, ms(m.CreatedAt), ms(m.ExpiresAt), ms(m.UpdatedAt))
	if err != nil {
		return err
	}
	for i := 1; i <= m.Parts; i++ {
		if _, err := t.exec("INSERT INTO message_parts (message_id, seq) VALUES (?, ?)", m.ID, i); err != nil {
			return err
		}
		m.PartList = append(m.PartList, Part{Seq: i, State: "pending"})
	}
	return nil
}

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

// transitionConfirmation moves c to a new state inside t, enforcing the
// transition table, bumping its version and appending the event that
// carries the whole confirmation. set applies the columns that go with it.
func transitionConfirmation(t *Tx, c *Confirmation, to payment.State, set func(c *Confirmation)) error {
	if err := payment.Move(c.State, to); err != nil {
		return fmt.Errorf("%w: confirmation %s is %s, cannot become %s", ErrConflict, c.ID, c.State, to)
	}
	c.State = to
	c.Version++
	c.UpdatedAt = t.now
	if to.Final() {
		c.FinalAt = t.now
	}
	if set != nil {
		set(c)
	}
	_, err := t.exec(`UPDATE confirmations SET state=?, version=?, reason=?, iccid=?, reply_inbox_id=?, sent_at=?,
		final_at=?, updated_at=? WHERE id=?`,
		c.State, c.Version, c.Reason, c.ICCID, c.ReplyID, ms(c.SentAt), ms(c.FinalAt), ms(c.UpdatedAt), c.ID)
	if err != nil {
		return err
	}
	return appendEvent(t, "confirmation."+string(to), "confirmation", c.ID, c.Version, ConfirmationView(c))
}

// confirmationOnMessage runs inside the transaction that changed a message's
// state, so a confirmation's state follows its SMS atomically.
func confirmationOnMessage(t *Tx, m *Message) error {
	if !IsConfirmationMessage(m) {
		return nil
	}
	c, err := scanConfirmation(t.queryRow("SELECT "+confirmationColumns+" FROM confirmations WHERE message_id=?", m.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil // a caller's own message that happens to use the prefix
	}
	if err != nil {
		return err
	}
	if c.State.Final() {
		return nil
	}
	switch m.State {
	case Queued, Sending:
		// Still unsent; the SIM it is bound to (if any) matters to the
		// scheduler's one-pending-per-SIM rule.
		if c.State == payment.Queued && c.ICCID != m.ICCID {
			_, err := t.exec("UPDATE confirmations SET iccid=? WHERE id=?", m.ICCID, c.ID)
			return err
		}
	case Sent, Unknown:
		// unknown: the SMS may have reached the customer, so a reply may
		// still come.
		if c.State == payment.Queued {
			return transitionConfirmation(t, c, payment.Sent, func(c *Confirmation) {
				c.ICCID = m.ICCID
				c.SentAt = m.SentAt
				if c.SentAt.IsZero() {
					c.SentAt = t.now
				}
			})
		}
	case Undelivered:
		return transitionConfirmation(t, c, payment.Failed, func(c *Confirmation) {
			c.Reason = payment.ReasonUndeliverable + errorSuffix(m.Error)
		})
	case Failed:
		return transitionConfirmation(t, c, payment.Failed, func(c *Confirmation) {
			c.Reason = payment.ReasonSendFailed + errorSuffix(m.Error)
		})
	case Expired:
		return transitionConfirmation(t, c, payment.Failed, func(c *Confirmation) { c.Reason = payment.ReasonExpiredUnsent })
	case Cancelled:
		return transitionConfirmation(t, c, payment.Cancelled, func(c *Confirmation) { c.Reason = payment.ReasonMessageCancelled })
	}
	return nil
}

// unlessConfirmationDecided stops a confirmation's SMS from going back to
// the queue (a send that failed before the PDU went out, or at-least-once
// recovery) once its confirmation was decided meanwhile, typically
// cancelled through the API while the SMS was on its way to the modem:
// the customer must not be asked about a payment that is off. The SMS
// fails instead, saying why.
func unlessConfirmationDecided(t *Tx, m *Message, set func(m *Message)) (MessageState, func(m *Message), error) {
	id, state, err := confirmationOf(t, m.ID)
	if err != nil {
		return "", nil, err
	}
	if !state.Final() {
		return Queued, set, nil
	}
	// The customer never got it, so a cancel notice still waiting would
	// tell them of a payment they never saw.
	var notice string
	err = t.queryRow("SELECT id FROM messages WHERE reference=? AND state=?", cancelNoticeRefPrefix+id, Queued).Scan(&notice)
	switch {
	case err == nil:
		if _, err := transitionMessage(t, notice, Cancelled, nil); err != nil {
			return "", nil, err
		}
	case !errors.Is(err, sql.ErrNoRows):
		return "", nil, err
	}
	return Failed, func(m *Message) {
		if set != nil {
			set(m)
		}
		m.NextAttempt = time.Time{}
		m.Error = &ErrorInfo{Code: "confirmation_" + string(state),
			Message: "its payment confirmation became " + string(state) + " while this SMS was being sent; it is not sent again"}
	}, nil
}

// confirmationOf returns the id and state of the confirmation whose SMS is
// message messageID; "" for another message.
func confirmationOf(t *Tx, messageID string) (string, payment.State, error) {
	var id string
	var state payment.State
	err := t.queryRow("SELECT id, state FROM confirmations WHERE message_id=?", messageID).Scan(&id, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return id, state, err
}

func errorSuffix(e *ErrorInfo) string {
	if e == nil {
		return ""
	}
	return " (" + e.Code + ")"
}

// confirmationOnReceived runs inside the transaction that stored a received
// SMS, so a reply resolves its confirmation atomically. A long reply that
// its first part decided already gets its inbox id here.
func confirmationOnReceived(t *Tx, m *InboxMessage, partsKey string) error {
	if partsKey != "" {
		res, err := t.exec("UPDATE confirmations SET reply_inbox_id=?, reply_parts_key='' WHERE reply_parts_key=?", m.ID, partsKey)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			// Its first part decided already. Judging the whole again could
			// decide the customer's next payment, sent through this SIM
			// since and within the clock skew of this reply's timestamp.
			return nil
		}
	}
	if !m.Plain {
		return nil
	}
	return decideByReply(t, m.Sender, m.ICCID, m.SCTS, m.ReceivedAt, m.Text, func(c *Confirmation) { c.ReplyID = m.ID })
}

// confirmationOnFirstPart runs inside the transaction that stored the first
// part of a long reply: it is enough to decide, so a lost or late second
// part does not hold the payment up. The assembled reply's inbox id is
// filled in once it exists.
func confirmationOnFirstPart(t *Tx, r Received, partsKey string) error {
	if !r.Plain || r.Seq != 1 {
		return nil
	}
	var decided string
	err := decideByReply(t, r.Sender, r.ICCID, r.SCTS, t.now, r.Text, func(c *Confirmation) { decided = c.ID })
	if err != nil || decided == "" {
		return err
	}
	_, err = t.exec("UPDATE confirmations SET reply_parts_key=? WHERE id=?", partsKey, decided)
	return err
}

// decideByReply applies a customer's reply to the confirmation it answers.
//
// A reply belongs to the newest sent confirmation from the same customer
// through the same SIM whose deadline its network timestamp beats; the
// scheduler never lets a customer have two pending confirmations on one SIM,
// so there is never a choice to make. Anything else (unknown sender, a late
// or second reply, a non-text SMS) stays in the inbox and changes nothing.
func decideByReply(t *Tx, sender, iccid string, scts, receivedAt time.Time, text string, set func(c *Confirmation)) error {
	from, err := sms.Normalize(sender)
	if err != nil {
		return nil // an alphanumeric sender is no customer
	}
	sentBy, expiresAfter := payment.ReplyWindow(scts, receivedAt)
	c, err := scanConfirmation(t.queryRow("SELECT "+confirmationColumns+` FROM confirmations
		WHERE phone=? AND state=? AND iccid=? AND expires_at>? AND sent_at<=?
		ORDER BY sent_at DESC LIMIT 1`,
		from, payment.Sent, iccid, ms(expiresAfter), ms(sentBy)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	answer, decided := payment.ReadReply(text, c.CancelWords)
	if !decided {
		return nil
	}
	return transitionConfirmation(t, c, answer, func(c *Confirmation) {
		set(c)
		if answer == payment.Cancelled {
			c.Reason = payment.ReasonCustomerCancelled
		}
	})
}

// CancelNotice is the SMS telling the customer that a payment was called off.
type CancelNotice struct {
	Text, Encoding string
	TTL            time.Duration
}

// CancelConfirmation cancels a pending confirmation through the API. A still
// queued SMS is cancelled with it (unsent is the scheduler's to drop); one
// being sent may still go out (if that send fails it is not retried) but no
// reply counts any more. notice, when given, is queued for a confirmation
// the customer may have read, its SMS sent or on its way, through the same
// SIM. A final confirmation gives ErrConflict with c set.
func (cs Confirmations) CancelConfirmation(ctx context.Context, id string, notice *CancelNotice) (c *Confirmation, unsent *Message, noticeMsg *Message, err error) {
	s := cs.s
	err = s.Write(ctx, func(t *Tx) error {
		var err error
		c, err = getConfirmation(t, id)
		if err != nil {
			return err
		}
		mayHaveRead := c.State == payment.Sent
		if err := transitionConfirmation(t, c, payment.Cancelled, func(c *Confirmation) { c.Reason = payment.ReasonAPICancelled }); err != nil {
			return err
		}
		msg, err := getMessage(t, c.MessageID)
		if err != nil {
			return err
		}
		switch msg.State {
		case Queued:
			if unsent, err = transitionMessage(t, msg.ID, Cancelled, nil); err != nil {
				return err
			}
		case Sending:
			mayHaveRead = true
		}
		if notice == nil || !mayHaveRead {
			return nil
		}
		noticeMsg = &Message{
			ID: NewID("msg_", t.now), Reference: cancelNoticeRefPrefix + c.ID, To: c.Phone, Text: notice.Text,
			Encoding: notice.Encoding, Parts: 1, ICCID: c.ICCID, State: Queued, Seq: 1,
			CreatedAt: t.now, ExpiresAt: t.now.Add(notice.TTL), UpdatedAt: t.now,
		}
		return insertOutgoing(t, noticeMsg)
	})
	if err != nil {
		if errors.Is(err, ErrConflict) && c != nil {
			return c, nil, nil, err
		}
		return nil, nil, nil, err
	}
	return c, unsent, noticeMsg, nil
}

// ExpireConfirmation marks a sent confirmation whose customer did not answer
// in time. It is ErrConflict once the confirmation is final.
func (cs Confirmations) ExpireConfirmation(ctx context.Context, id string) (*Confirmation, error) {
	return cs.endConfirmation(ctx, id, payment.Expired, "")
}

// FailConfirmation gives up on a pending confirmation for reason. It is
// ErrConflict once the confirmation is final.
func (cs Confirmations) FailConfirmation(ctx context.Context, id, reason string) (*Confirmation, error) {
	return cs.endConfirmation(ctx, id, payment.Failed, reason)
}

func (cs Confirmations) endConfirmation(ctx context.Context, id string, to payment.State, reason string) (*Confirmation, error) {
	s := cs.s
	var c *Confirmation
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		if c, err = getConfirmation(t, id); err != nil {
			return err
		}
		return transitionConfirmation(t, c, to, func(c *Confirmation) { c.Reason = reason })
	})
	return c, err
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
