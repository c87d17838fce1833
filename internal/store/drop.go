package store

import (
	"context"
	"fmt"

	"github.com/gsmbridge/gsmbridge/internal/payment"
)

// DropQueued deletes a message none of whose parts began, without an
// event: a host's copy of work that went to another host (the fleet
// released it while this host was away) must not show up as this host's
// cancel. A message that began sending stays, ErrConflict.
func (mg Messages) DropQueued(ctx context.Context, id string) error {
	s := mg.s
	return s.Write(ctx, func(t *Tx) error {
		m, err := getMessage(t, id)
		if err != nil {
			return err
		}
		if m.State != Queued {
			return fmt.Errorf("%w: message %s is %s", ErrConflict, id, m.State)
		}
		for _, p := range m.PartList {
			if p.State != "pending" {
				return fmt.Errorf("%w: message %s has part %d %s", ErrConflict, id, p.Seq, p.State)
			}
		}
		if _, err := t.exec("DELETE FROM message_parts WHERE message_id = ?", id); err != nil {
			return err
		}
		_, err = t.exec("DELETE FROM messages WHERE id = ?", id)
		return err
	})
}

// DropQueued deletes a queued confirmation and its SMS, none of whose parts
// began, without an event: a host's copy of a confirmation the fleet gave
// to another host while this one was away (DropQueued of Messages says
// why). One whose SMS began sending, or that moved on, stays: ErrConflict.
func (cs Confirmations) DropQueued(ctx context.Context, id string) error {
	s := cs.s
	return s.Write(ctx, func(t *Tx) error {
		c, err := getConfirmation(t, id)
		if err != nil {
			return err
		}
		if c.State != payment.Queued {
			return fmt.Errorf("%w: confirmation %s is %s", ErrConflict, id, c.State)
		}
		m, err := getMessage(t, c.MessageID)
		if err != nil {
			return err
		}
		if m.State != Queued {
			return fmt.Errorf("%w: the SMS of confirmation %s is %s", ErrConflict, id, m.State)
		}
		for _, p := range m.PartList {
			if p.State != "pending" {
				return fmt.Errorf("%w: the SMS of confirmation %s has part %d %s", ErrConflict, id, p.Seq, p.State)
			}
		}
		if _, err := t.exec("DELETE FROM confirmations WHERE id = ?", id); err != nil {
			return err
		}
		if _, err := t.exec("DELETE FROM message_parts WHERE message_id = ?", m.ID); err != nil {
			return err
		}
		_, err = t.exec("DELETE FROM messages WHERE id = ?", m.ID)
		return err
	})
}
