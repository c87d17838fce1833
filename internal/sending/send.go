package sending

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

// send writes the parts of the job's message that are left and records
// each outcome. It returns when each part went out (for the SIM's
// send-limit windows), the error of the part that failed, and the AT error
// when the modem may have stopped answering. A part whose outcome is
// unknown is not among those sent; when it failed is j.unknownAt.
func (j *sendJob) send(ctx context.Context, modem *gsm.Modem) (sentAt []time.Time, failure, atErr error) {
	s, m, modemID, sim := j.lane.s, j.m, j.lane.Modem, j.lane.SIM
	log := j.lane.Log.With("message", m.ID, "to", sms.MaskNumber(m.To))
	// The scheduler's copy is what the store said when it was queued; the
	// store re-checks its state in BeginPart. Only a message loaded at
	// start-up comes without its parts.
	full := m
	if len(m.PartList) != m.Parts {
		var err error
		if full, err = s.messages.GetMessage(ctx, m.ID); err != nil {
			log.Error("load queued message", "err", err)
			s.requeueLater(ctx, m.ID, store.Queued)
			return nil, nil, nil
		}
	}
	remaining := full.ExpiresAt.Sub(s.now())
	if remaining <= 0 {
		// Its deadline passed while it waited for this modem: it expires,
		// as BeginPart would say; a validity period of nothing cannot be
		// encoded, and failing it here would blame the SIM.
		s.Expire(ctx, m.ID)
		return nil, nil, nil
	}
	parts, err := sms.EncodeSubmit(full.To, full.Text, sms.SubmitOptions{
		StatusReport: full.Report,
		Validity:     remaining,
		ConcatRef:    uint16(full.ConcatRef),
	})
	if err != nil {
		s.messages.PartNotSent(ctx, m.ID, 1, store.ErrorInfo{Code: "encode", Message: err.Error()}, time.Time{})
		return nil, nil, nil
	}
	for _, p := range parts {
		if full.PartList[p.Seq-1].State != "pending" {
			continue
		}
		if ctx.Err() != nil {
			// Stopping between parts: the rest go out after the restart,
			// through the same SIM.
			return sentAt, nil, nil
		}
		if s.fleet != nil && full.State == store.Queued && p.Seq == parts[0].Seq {
			if send, wait := s.fleet.ClaimSending(ctx, m.ID); !send {
				if wait {
					s.requeueLater(ctx, m.ID, store.Queued)
				}
				return sentAt, nil, nil
			}
		}
		if _, err := s.messages.BeginPartAfter(ctx, j.lane.takeSent(), m.ID, p.Seq, sim.ICCID, modemID); err != nil {
			switch {
			case errors.Is(err, store.ErrExpired):
				s.Expire(ctx, m.ID)
			case errors.Is(err, store.ErrConflict):
				// Changed in the store since it was queued here (a cancel
				// notice called off with its payment's SMS, say): the store
				// decides, and requeueLater takes it only if still queued.
				log.Info("message changed since it was queued", "err", err)
				s.requeueLater(ctx, m.ID, store.Queued)
			default:
				// Nothing went out. A later part's start leaves the
				// message sending between parts; it goes on through its
				// SIM once the store writes again.
				log.Error("begin part", "err", err)
				s.requeueLater(ctx, m.ID, store.Queued, store.Sending)
			}
			return sentAt, nil, nil
		}
		// A stop of the daemon must not cut a PDU off mid-send: that would
		// make its outcome unknown. The send runs to its own deadline.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CommandTimeout)
		mr, err := modem.SendPDU(sctx, p)
		cancel()
		if err == nil {
			at := s.now()
			sentAt = append(sentAt, at)
			// Not waited for here: the next BeginPart on this lane carries
			// it into its commit, or once the lane has nothing more to send
			// it rides with the store's next commit; a crash before that
			// leaves the part "sending", i.e. unknown, never resent.
			j.lane.holdSent(s.sentRecord(log, m.ID, p.Seq, mr, at))
			continue
		}
		f := gsm.Classify(err)
		info := store.ErrorInfo{Code: f.Code, Message: f.Message}
		if f.OutcomeUnknown {
			log.Warn("send outcome unknown; not retrying", "err", err)
			// It may well have gone out: the SIM's limits count it.
			j.unknownAt = s.now()
			id, seq, atLeastOnce := m.ID, p.Seq, s.cfg.AtLeastOnce
			unknown := func(ctx context.Context) error {
				upd, err := s.messages.PartUnknown(ctx, id, seq, info, atLeastOnce)
				if err == nil && upd.State == store.Queued {
					s.sched.Enqueue(upd)
				}
				return err
			}
			if err := unknown(context.WithoutCancel(ctx)); errors.Is(err, store.ErrUnavailable) {
				s.later("part unknown", unknown)
			}
			return sentAt, err, err
		}
		retryAt := time.Time{}
		if !f.Permanent && full.Attempts+1 < s.cfg.MaxAttempts {
			retryAt = s.now().Add(backoff(s.cfg.RetryBackoff, s.cfg.RetryBackoffMax, full.Attempts))
		}
		log.Info("send failed before the message went out", "err", err, "retry", !retryAt.IsZero())
		id, seq := m.ID, p.Seq
		notSent := func(ctx context.Context) error {
			upd, err := s.messages.PartNotSent(ctx, id, seq, info, retryAt)
			if err == nil && upd.State == store.Queued {
				s.sched.Enqueue(upd)
			}
			return err
		}
		if err := notSent(context.WithoutCancel(ctx)); errors.Is(err, store.ErrUnavailable) {
			s.later("part not sent", notSent)
		}
		if errors.Is(err, gsm.ErrTimeout) {
			return sentAt, err, err
		}
		return sentAt, err, nil
	}
	return sentAt, nil, nil
}

// sentRecord is the record of a part the modem took, with what its
// outcome does: the metric for a message now sent, or, if the store is
// failing, a write kept until it recovers (the PDU went out, so what the
// modem answered is never dropped).
func (s *Sending) sentRecord(log *slog.Logger, id string, seq, mr int, at time.Time) store.SentPart {
	recorded := func(upd *store.Message) {
		if upd.State == store.Sent {
			// From SentAt, when the modem took the last part: the record
			// itself may have waited for a commit to ride with.
			s.metrics.sendLatency(upd.SentAt.Sub(upd.CreatedAt))
		}
	}
	return store.SentPart{ID: id, Seq: seq, MR: mr, At: at, Then: func(upd *store.Message, err error) {
		switch {
		case err == nil:
			recorded(upd)
		case errors.Is(err, store.ErrUnavailable):
			log.Error("record sent part; kept until the store recovers", "err", err)
			s.later("part sent", func(ctx context.Context) error {
				upd, err := s.messages.PartSent(ctx, id, seq, mr, at)
				if err == nil {
					recorded(upd)
				}
				return err
			})
		default:
			log.Error("record sent part", "err", err)
		}
	}}
}

// requeueLater hands a message back to the scheduler if the store has it in
// one of states. It reads the store even when ctx has ended (a modem
// unplugged mid-job, a fleet claim that timed out with the job's context):
// a message the store holds queued but the scheduler forgot would wait
// for the next restart.
func (s *Sending) requeueLater(ctx context.Context, id string, states ...store.MessageState) {
	m, err := s.messages.GetMessage(context.WithoutCancel(ctx), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		s.log.Error("reading a message to queue it again; it waits for the next start", "message", id, "err", err)
	case slices.Contains(states, m.State):
		m.NextAttempt = s.now().Add(s.cfg.RetryBackoff)
		s.sched.Enqueue(m)
	}
}

func backoff(first, max time.Duration, attempt int) time.Duration {
	d := first
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
