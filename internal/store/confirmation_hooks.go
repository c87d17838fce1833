package store

import (
	"database/sql"
	"errors"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/sms"
)

// What changes of messages and received SMS do to their confirmations, run
// inside the transaction that makes the change.

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
			sentAt := m.SentAt
			if sentAt.IsZero() {
				if sentAt, err = mayHaveGoneOutAt(t, m.ID); err != nil {
					return err
				}
			}
			return transitionConfirmation(t, c, payment.Sent, func(c *Confirmation) {
				c.ICCID, c.SentAt = m.ICCID, sentAt
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
// its first part decided already gets its inbox id here; one that may not
// decide (decides false) gets only that.
func confirmationOnReceived(t *Tx, m *InboxMessage, partsKey string, decides bool) error {
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
	if !m.Plain || !decides {
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

// mayHaveGoneOutAt is the earliest moment an unknown SMS may have reached
// its customer: its parts' sending times, not the recovery that found them
// unknown, so that a reply written while the daemon was down still counts.
func mayHaveGoneOutAt(t *Tx, messageID string) (time.Time, error) {
	var first int64
	if err := t.queryRow("SELECT COALESCE(MIN(sent_at), 0) FROM message_parts WHERE message_id=? AND sent_at>0", messageID).Scan(&first); err != nil {
		return time.Time{}, err
	}
	if first == 0 {
		return t.now, nil
	}
	return fromMS(first), nil
}
