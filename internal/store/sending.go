package store

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"
)

// The send path writes before and after every AT+CMGS so that a crash at any
// point leaves the database saying what may have happened: a part marked
// "sending" may be on the air, so it is never sent again unless the operator
// asked for at-least-once.

// BeginPart records that part seq of message id is about to be written to a
// modem through SIM iccid. The first part moves the message to sending and
// counts an attempt. Call it, and wait for it, before the PDU goes out.
func (mg Messages) BeginPart(ctx context.Context, id string, seq int, iccid, modemID string) (*Message, error) {
	return mg.BeginPartAfter(ctx, nil, id, seq, iccid, modemID)
}

// BeginPartAfter is BeginPart that first records sent (if not nil), the
// part the modem sent last, in the same commit but on its own: a lane
// sending back to back pays one fsync per SMS, and sent is recorded (sent.Then
// hears how) whatever becomes of the new part. Until then sent's part stays
// "sending", which a crash turns into unknown, never sent again.
func (mg Messages) BeginPartAfter(ctx context.Context, sent *SentPart, id string, seq int, iccid, modemID string) (*Message, error) {
	s := mg.s
	var m *Message
	var before *writeOp
	if sent != nil {
		before = mg.partSentOp(*sent)
	}
	err := s.writeAfter(ctx, before, func(t *Tx) error {
		cur, err := getMessage(t, id)
		if err != nil {
			return err
		}
		if !t.now.Before(cur.ExpiresAt) {
			return fmt.Errorf("%w: message %s expired at %s", ErrExpired, id, cur.ExpiresAt.Format(time.RFC3339))
		}
		if cur.ICCID != "" && cur.ICCID != iccid && anyPartLeft(cur) {
			// All parts of a long message go through one SIM, or the
			// handset cannot join them.
			return fmt.Errorf("%w: message %s is bound to SIM %s", ErrConflict, id, cur.ICCID)
		}
		if cur.State == Queued {
			cur, err = transitionMessage(t, id, Sending, func(m *Message) {
				m.Attempts++
				m.ICCID, m.ModemID = iccid, modemID
				m.NextAttempt = time.Time{}
			})
			if err != nil {
				return err
			}
		} else if cur.State != Sending {
			return fmt.Errorf("%w: message %s is %s", ErrConflict, id, cur.State)
		}
		res, err := t.exec("UPDATE message_parts SET state='sending', iccid=? WHERE message_id=? AND seq=? AND state='pending'", iccid, id, seq)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: part %d of %s is not pending", ErrConflict, seq, id)
		}
		m = cur
		return nil
	})
	return m, err
}

// ErrExpired means the message may no longer be sent.
var ErrExpired = fmt.Errorf("expired")

func anyPartLeft(m *Message) bool {
	for _, p := range m.PartList {
		if p.State != "pending" {
			return true
		}
	}
	return false
}

// PartSent records the modem's message reference for a part, which the
// modem took at at (zero: now); the message is sent once every part is.
func (mg Messages) PartSent(ctx context.Context, id string, seq, mr int, at time.Time) (*Message, error) {
	s := mg.s
	var m *Message
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		m, err = partSent(t, id, seq, mr, at)
		return err
	})
	return m, err
}

// SentPart is a part the modem took, with its message reference, whose
// record is written without the sender waiting: Then hears the outcome
// from the writer, under WriteAsync's rules.
type SentPart struct {
	ID      string
	Seq, MR int
	At      time.Time // when the modem took it; zero means the commit's time
	Then    func(*Message, error)
}

// PartSentAlong is PartSent without waiting, and on a busy store without a
// commit of its own: it rides with the store's next one (WriteAlong).
func (mg Messages) PartSentAlong(p SentPart) {
	op := mg.partSentOp(p)
	mg.s.WriteAlong(op.fn, op.then)
}

func (mg Messages) partSentOp(p SentPart) *writeOp {
	var m *Message
	return &writeOp{fn: func(t *Tx) error {
		var err error
		m, err = partSent(t, p.ID, p.Seq, p.MR, p.At)
		return err
	}, then: func(err error) { p.Then(m, err) }}
}

// partSent records a part sent at at (zero: the commit's time).
func partSent(t *Tx, id string, seq, mr int, at time.Time) (*Message, error) {
	at = cmp.Or(at, t.now)
	if _, err := t.exec("UPDATE message_parts SET state='sent', mr=?, sent_at=? WHERE message_id=? AND seq=? AND state='sending'",
		mr, ms(at), id, seq); err != nil {
		return nil, err
	}
	var left int
	if err := t.queryRow("SELECT COUNT(*) FROM message_parts WHERE message_id=? AND state!='sent'", id).Scan(&left); err != nil {
		return nil, err
	}
	if left > 0 {
		return getMessage(t, id)
	}
	m, err := transitionMessage(t, id, Sent, func(m *Message) {
		m.SentAt = at
		m.Error = nil
	})
	if err != nil {
		return nil, err
	}
	return m, touchSIMSent(t, m.ICCID)
}

// PartNotSent records a failure that happened before the PDU reached the
// modem, so nothing went out. retryAt zero means give up: the message fails.
func (mg Messages) PartNotSent(ctx context.Context, id string, seq int, cause ErrorInfo, retryAt time.Time) (*Message, error) {
	s := mg.s
	var m *Message
	err := s.Write(ctx, func(t *Tx) error {
		if _, err := t.exec("UPDATE message_parts SET state='pending' WHERE message_id=? AND seq=? AND state='sending'", id, seq); err != nil {
			return err
		}
		var sentParts int
		if err := t.queryRow("SELECT COUNT(*) FROM message_parts WHERE message_id=? AND state!='pending'", id).Scan(&sentParts); err != nil {
			return err
		}
		to := Queued
		if retryAt.IsZero() {
			to = Failed
		}
		var err error
		m, err = transitionMessage(t, id, to, func(m *Message) {
			m.Error = &cause
			m.NextAttempt = retryAt
			if m.State == Queued && sentParts == 0 {
				// Nothing of it went out: another SIM may take it.
				m.ICCID, m.ModemID = "", ""
			}
		})
		return err
	})
	return m, err
}

// PartUnknown records a part whose PDU was written but whose result never
// came. The message becomes unknown and is not sent again; with atLeastOnce
// a message that is no confirmation's goes back to the queue instead,
// accepting a possible duplicate.
func (mg Messages) PartUnknown(ctx context.Context, id string, seq int, cause ErrorInfo, atLeastOnce bool) (*Message, error) {
	s := mg.s
	var m *Message
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		m, err = markUnknown(t, id, seq, cause, atLeastOnce)
		return err
	})
	return m, err
}

func markUnknown(t *Tx, id string, seq int, cause ErrorInfo, atLeastOnce bool) (*Message, error) {
	state, to := "unknown", Unknown
	if atLeastOnce {
		// Never for a confirmation's SMS: a payment SMS is not sent twice,
		// whatever the operator prefers for the others.
		conf, _, err := confirmationOf(t, id)
		if err != nil {
			return nil, err
		}
		if conf == "" {
			state, to = "pending", Queued
		}
	}
	// The part may have gone out any time since its message started
	// sending, which a recovery long after the crash is not: the earliest
	// moment is the one a reply or a delivery report is measured against.
	cur, err := getMessage(t, id)
	if err != nil {
		return nil, err
	}
	since := cur.UpdatedAt
	if cur.State != Sending || since.After(t.now) {
		since = t.now
	}
	if _, err := t.exec("UPDATE message_parts SET state=?, sent_at=? WHERE message_id=? AND seq=? AND state='sending'",
		state, ms(since), id, seq); err != nil {
		return nil, err
	}
	return transitionMessage(t, id, to, func(m *Message) { m.Error = &cause })
}

// RecoverInFlight runs at start-up, before any modem is used: a part left in
// "sending" by a crash may have gone out, so its message becomes unknown (or,
// unless it is a confirmation's, is requeued under at-least-once). Messages caught between parts go back to
// the queue bound to their SIM. It returns how many became unknown.
func (mg Messages) RecoverInFlight(ctx context.Context, atLeastOnce bool) (int, error) {
	s := mg.s
	var n int
	err := s.Write(ctx, func(t *Tx) error {
		rows, err := t.query("SELECT message_id, seq FROM message_parts WHERE state='sending'")
		if err != nil {
			return err
		}
		type key struct {
			id  string
			seq int
		}
		var inflight []key
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.id, &k.seq); err != nil {
				rows.Close()
				return err
			}
			inflight = append(inflight, k)
		}
		rows.Close()
		cause := ErrorInfo{Code: "interrupted", Message: "gsmbridge stopped while this part was being sent; it may have reached the recipient"}
		for _, k := range inflight {
			if _, err := markUnknown(t, k.id, k.seq, cause, atLeastOnce); err != nil {
				return err
			}
			n++
		}
		rows, err = t.query("SELECT id FROM messages WHERE state='sending'")
		if err != nil {
			return err
		}
		var between []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			between = append(between, id)
		}
		rows.Close()
		for _, id := range between {
			if _, err := transitionMessage(t, id, Queued, nil); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// Cancel stops a queued message. Once sending started it is ErrConflict: the
// SMS may be on its way and cannot be called back.
func (mg Messages) Cancel(ctx context.Context, id string) (*Message, error) {
	s := mg.s
	var m *Message
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		m, err = transitionMessage(t, id, Cancelled, nil)
		return err
	})
	return m, err
}

// Expire marks a queued message whose time ran out before it could be sent.
func (mg Messages) Expire(ctx context.Context, id string) (*Message, error) {
	s := mg.s
	var m *Message
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		m, err = transitionMessage(t, id, Expired, func(m *Message) {
			m.Error = &ErrorInfo{Code: "expired", Message: "not sent before expires_at"}
		})
		return err
	})
	return m, err
}

// Queue hands each every message that still has parts to send (queued, or
// sending after recovery), oldest first, ties by id; the scheduler loads it
// at start-up.
//
// The messages come one at a time, so that a deep queue is never held
// whole: the scheduler keeps a few fields of each and drops the rest.
// Texts are left out too: the owner reads the whole message when it sends
// one. Each state is read in the order of its index, and those caught
// sending (a few at most, one per modem) are merged into the queued ones
// here: sorting both states in SQLite took its sorter 2 MB for 10,000
// queued messages, which its allocator keeps mapped afterwards.
func (mg Messages) Queue(ctx context.Context, each func(*Message)) error {
	s := mg.s
	q := "SELECT " + strings.Replace(messageColumns, "body,", "'' AS body,", 1) +
		" FROM messages WHERE state = ? ORDER BY created_at, id"
	rows, err := s.rdb.QueryContext(ctx, q, Sending)
	sending, err := collect(rows, err, scanMessage)
	if err != nil {
		return err
	}
	rows, err = s.rdb.QueryContext(ctx, q, Queued)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return err
		}
		for len(sending) > 0 && queueOrder(sending[0], m) < 0 {
			each(sending[0])
			sending = sending[1:]
		}
		each(m)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range sending {
		each(m)
	}
	return nil
}

// queueOrder is the order of ORDER BY created_at, id.
func queueOrder(a, b *Message) int {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
}

func touchSIMSent(t *Tx, iccid string) error {
	if iccid == "" {
		return nil
	}
	_, err := t.exec("UPDATE sims SET last_sent_at=? WHERE iccid=?", ms(t.now), iccid)
	return err
}
