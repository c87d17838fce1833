package confirm

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

const (
	// confirmationTick is how often Run asks the deadline rule again about a
	// due confirmation that waits for what the log does not show; it bounds
	// how late such an expiry, or the scheduler's wake-up for it, comes.
	confirmationTick = time.Second
	// vetoTimeout bounds the store lookup the scheduler's veto makes under
	// its lock; a lookup that cannot finish in time vetoes, and the message
	// waits for the next dispatch.
	vetoTimeout = 250 * time.Millisecond
)

// confirmationEvents are the events Run follows.
var confirmationEvents = store.EventTypes{"confirmation.*"}

// Run keeps confirmation timers (expiry after the SIM was read again past
// the deadline) until ctx ends. All its state is in the store, so
// after a restart the timers are simply found again.
//
// It also wakes the scheduler when a confirmation is decided: a decision
// frees the customer's SIM for their next confirmation, and it is often made
// where the scheduler cannot be told (a reply stored by a modem owner).
//
// Both wake on the store: the log's growth for decisions, a timer set to the
// next deadline for expiry; and on Wake, when a modem completed a sweep
// of its storage the deadline rule may have asked for. While a
// confirmation is past its deadline but not ended (in its grace, its SIM
// out, its SMS still queued) the deadline rule is asked again every
// confirmationTick, since what it waits for (a modem turning ready, the
// scheduler expiring the SMS) is not in the log.
func (s *Confirmations) Run(ctx context.Context) {
	// Only confirmation events wake it: a sent SMS or a modem's news
	// does not make it read the log.
	cursor, grew := s.eventLog.LogEnd().ChangedOf(confirmationEvents)
	s.queue.Poke()
	expiry := time.NewTimer(0)
	defer expiry.Stop()
	armed := s.now() // when expiry fires; zero while stopped
	arm := func(at time.Time) {
		if !armed.IsZero() && !at.Before(armed) {
			return
		}
		expiry.Reset(max(at.Sub(s.now()), 0))
		armed = at
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-grew:
			_, grew = s.eventLog.LogEnd().ChangedOf(confirmationEvents)
			ch, err := s.store.ConfirmationsChangedSince(ctx, cursor)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Error("confirmations: read the event log", "err", err)
				}
				continue
			}
			if ch.Decided {
				s.observeReplies(ctx, cursor, ch.Last)
				s.queue.Poke()
			}
			cursor = ch.Last
			if !ch.Changed {
				continue
			}
			// A confirmation created now may be due before the timer.
			if at, ok, err := s.store.NextConfirmationDue(ctx); err != nil {
				if ctx.Err() == nil {
					s.log.Error("confirmations: find the next deadline", "err", err)
				}
			} else if ok {
				arm(at)
			}
			continue
		case <-expiry.C:
			armed = time.Time{}
		case <-s.wake:
		}
		changed, waiting := s.expire(ctx)
		if changed {
			s.queue.Poke()
		}
		if waiting {
			arm(s.now().Add(confirmationTick))
		} else if at, ok, err := s.store.NextConfirmationDue(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Error("confirmations: find the next deadline", "err", err)
			}
			arm(s.now().Add(confirmationTick))
		} else if ok {
			arm(at)
		}
	}
}

// expire applies the deadline rule (payment.AtDeadline) to
// every due confirmation and reports whether it ended any, or found a queued
// one whose SMS the scheduler must now expire; waiting says whether a due
// one is left for the rule to look at again.
func (s *Confirmations) expire(ctx context.Context) (changed, waiting bool) {
	now := s.now()
	rules := payment.Deadlines{Grace: s.cfg.ExpiryGrace, LostAfter: s.cfg.SIMLostAfter}
	due, err := s.store.ConfirmationsDue(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("confirmations: find due ones", "err", err)
		}
		return false, true
	}
	var modems []api.Modem
	for _, c := range due {
		v := payment.AtDeadline(c.State, c.ExpiresAt, now, rules, func(readySince, sweptFrom time.Time) bool {
			if modems == nil {
				modems = s.modems.Modems()
			}
			if !simReadySince(modems, c.ICCID, readySince) {
				return false
			}
			if s.modems.SweptSince(c.ICCID, sweptFrom) {
				return true
			}
			// A reply whose announcement the modem lost waits in storage
			// until a sweep; the owner sweeps between jobs and Wake
			// brings Run back here when it has.
			s.modems.Sweep(c.ICCID, sweptFrom)
			return false
		})
		switch v.Action {
		case payment.Wait:
			waiting = true
			continue
		case payment.SMSExpires:
			changed, waiting = true, true
			continue
		case payment.Expire:
			_, err = s.store.ExpireConfirmation(ctx, c.ID)
		case payment.Fail:
			_, err = s.store.FailConfirmation(ctx, c.ID, v.Reason)
		}
		if err != nil {
			if !errors.Is(err, store.ErrConflict) && ctx.Err() == nil {
				s.log.Error("confirmations: end after the deadline", "confirmation", c.ID, "err", err)
			}
			waiting = waiting || !errors.Is(err, store.ErrConflict)
			continue
		}
		changed = true
	}
	return changed, waiting
}

// Wake has Run apply the deadline rule again: a modem completed a sweep of
// its storage, which a due confirmation may wait for. It never blocks.
func (s *Confirmations) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// simReadySince reports whether the SIM's modem is ready and has been since
// before t.
func simReadySince(modems []api.Modem, iccid string, t time.Time) bool {
	for _, m := range modems {
		if m.ICCID == iccid && m.State == api.ModemReady && !m.Since.After(t) {
			return true
		}
	}
	return false
}

// Eligible tells the scheduler whether SIM iccid may send m: a
// customer has at most one pending confirmation per SIM, so a reply is never
// ambiguous.
//
// Only a confirmation's own SMS is looked up, with one indexed read of the
// store, which stays the single truth about which confirmation is pending
// where: the decisions are made inside other writers' transactions, so an
// in-memory copy could only lag behind them.
func (s *Confirmations) Eligible(m *store.Message, iccid string) bool {
	if !store.IsConfirmationMessage(m) {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), vetoTimeout)
	defer cancel()
	busy, err := s.store.PendingOnSIM(ctx, m.To, iccid, m.ID)
	if err != nil {
		s.log.Error("confirmations: check the customer's pending confirmations", "message", m.ID, "err", err)
		return false
	}
	return !busy
}

// observeReplies records, for the metrics, how long customers took to answer
// the confirmations a reply decided between two points of the event log.
func (s *Confirmations) observeReplies(ctx context.Context, after, upto int64) {
	evs, err := s.eventLog.Events(ctx, store.EventFilter{After: after, Upto: upto,
		Types: store.EventTypes{"confirmation.confirmed", "confirmation.cancelled"}, Limit: 1000})
	if err != nil {
		return
	}
	for _, ev := range evs {
		var c struct {
			SentAt  time.Time `json:"sent_at"`
			FinalAt time.Time `json:"final_at"`
			Reason  string    `json:"reason"`
		}
		if json.Unmarshal(ev.Data, &c) != nil {
			continue
		}
		// A long reply decides by its first part, before it has an inbox
		// id, so the reason tells a customer's cancel from the API's.
		byReply := ev.Type == "confirmation.confirmed" || c.Reason == payment.ReasonCustomerCancelled
		if byReply && !c.SentAt.IsZero() && c.FinalAt.After(c.SentAt) {
			s.metrics.reply(c.FinalAt.Sub(c.SentAt))
		}
	}
}
