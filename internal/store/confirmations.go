package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/payment"
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

// ConfirmationOf names the confirmation m was made for: m is its SMS, or
// its cancel notice (notice true). ok is false for a caller's message.
func ConfirmationOf(m *Message) (id string, notice, ok bool) {
	if id, ok := strings.CutPrefix(m.Reference, confirmationRefPrefix); ok {
		return id, false, true
	}
	if id, ok := strings.CutPrefix(m.Reference, cancelNoticeRefPrefix); ok {
		return id, true, true
	}
	return "", false, false
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
