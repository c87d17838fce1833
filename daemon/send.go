package daemon

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

// send writes the parts of the job's message that are left and records
// each outcome. It returns when each part went out (for the SIM's
// send-limit windows), the error of the part that failed, and the AT error
// when the modem may have stopped answering.
func (j *sendJob) send(ctx context.Context, modem *gsm.Modem) (sentAt []time.Time, failure, atErr error) {
	d, m, modemID, sim := j.lane.w.d, j.m, j.lane.Modem, j.lane.SIM
	log := j.lane.Log.With("message", m.ID, "to", sms.MaskNumber(m.To))
	// The scheduler's copy is what the store said when it was queued; the
	// store re-checks its state in BeginPart. Only a message loaded at
	// start-up comes without its parts.
	full := m
	if len(m.PartList) != m.Parts {
		var err error
		if full, err = d.store.Messages.GetMessage(ctx, m.ID); err != nil {
			log.Error("load queued message", "err", err)
			return nil, nil, nil
		}
	}
	remaining := full.ExpiresAt.Sub(d.now())
	parts, err := sms.EncodeSubmit(full.To, full.Text, sms.SubmitOptions{
		StatusReport: full.Report,
		Validity:     remaining,
		ConcatRef:    uint16(full.ConcatRef),
	})
	if err != nil {
		d.store.Messages.PartNotSent(ctx, m.ID, 1, store.ErrorInfo{Code: "encode", Message: err.Error()}, time.Time{})
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
		if d.fleet != nil && full.State == store.Queued && p.Seq == parts[0].Seq {
			if send, wait := d.fleetClaimSending(ctx, m.ID); !send {
				if wait {
					d.requeueLater(ctx, m.ID, store.Queued)
				}
				return sentAt, nil, nil
			}
		}
		if _, err := d.store.Messages.BeginPart(ctx, m.ID, p.Seq, sim.ICCID, modemID); err != nil {
			switch {
			case errors.Is(err, store.ErrExpired):
				d.store.Messages.Expire(ctx, m.ID)
			case errors.Is(err, store.ErrConflict):
				// Changed in the store since it was queued here (a cancel
				// notice called off with its payment's SMS, say): the store
				// decides, and requeueLater takes it only if still queued.
				log.Info("message changed since it was queued", "err", err)
				d.requeueLater(ctx, m.ID, store.Queued)
			default:
				// Nothing went out. A later part's start leaves the
				// message sending between parts; it goes on through its
				// SIM once the store writes again.
				log.Error("begin part", "err", err)
				d.requeueLater(ctx, m.ID, store.Queued, store.Sending)
			}
			return sentAt, nil, nil
		}
		// A stop of the daemon must not cut a PDU off mid-send: that would
		// make its outcome unknown. The send runs to its own deadline.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.Send.CommandTimeout)
		mr, err := modem.SendPDU(sctx, p)
		cancel()
		if err == nil {
			sentAt = append(sentAt, d.now())
			// Not waited for here: the next BeginPart on this modem commits
			// after it (often in the same fsync), and a crash before that
			// leaves the part "sending", i.e. unknown, never resent.
			recorded := func(upd *store.Message) {
				if upd.State == store.Sent {
					d.metrics.sendLatency(d.now().Sub(upd.CreatedAt))
				}
			}
			id, seq := m.ID, p.Seq
			d.store.Messages.PartSentAsync(id, seq, mr, func(upd *store.Message, err error) {
				switch {
				case err == nil:
					recorded(upd)
				case errors.Is(err, store.ErrUnavailable):
					// The PDU went out: what the modem answered is written
					// once the store takes writes, never dropped.
					log.Error("record sent part; kept until the store recovers", "err", err)
					d.settleLater("part sent", func(ctx context.Context) error {
						upd, err := d.store.Messages.PartSent(ctx, id, seq, mr)
						if err == nil {
							recorded(upd)
						}
						return err
					})
				default:
					log.Error("record sent part", "err", err)
				}
			})
			continue
		}
		f := gsm.Classify(err)
		info := store.ErrorInfo{Code: f.Code, Message: f.Message}
		if f.OutcomeUnknown {
			log.Warn("send outcome unknown; not retrying", "err", err)
			id, seq, atLeastOnce := m.ID, p.Seq, d.cfg.Send.AtLeastOnce
			unknown := func(ctx context.Context) error {
				upd, err := d.store.Messages.PartUnknown(ctx, id, seq, info, atLeastOnce)
				if err == nil && upd.State == store.Queued {
					d.sched.Enqueue(upd)
				}
				return err
			}
			if err := unknown(context.WithoutCancel(ctx)); errors.Is(err, store.ErrUnavailable) {
				d.settleLater("part unknown", unknown)
			}
			return sentAt, err, err
		}
		retryAt := time.Time{}
		if !f.Permanent && full.Attempts+1 < d.cfg.Send.MaxAttempts {
			retryAt = d.now().Add(backoff(d.cfg.Send.RetryBackoff, d.cfg.Send.RetryBackoffMax, full.Attempts))
		}
		log.Info("send failed before the message went out", "err", err, "retry", !retryAt.IsZero())
		id, seq := m.ID, p.Seq
		notSent := func(ctx context.Context) error {
			upd, err := d.store.Messages.PartNotSent(ctx, id, seq, info, retryAt)
			if err == nil && upd.State == store.Queued {
				d.sched.Enqueue(upd)
			}
			return err
		}
		if err := notSent(context.WithoutCancel(ctx)); errors.Is(err, store.ErrUnavailable) {
			d.settleLater("part not sent", notSent)
		}
		if errors.Is(err, gsm.ErrTimeout) {
			return sentAt, err, err
		}
		return sentAt, err, nil
	}
	return sentAt, nil, nil
}

func (o *owner) setSIMState(state string) {
	o.update(func(s *ModemStatus) { s.SIMState = state })
}

// resumeLane lets a modem whose SIM was suspect take work again.
func (d *Daemon) resumeLane(modemID string) {
	if o := d.ownerOf(modemID); o != nil {
		o.setSIMState(store.SIMActive)
	}
	d.sched.Unpause(modemID, "suspect")
}

// requeueLater hands a message back to the scheduler if the store has it in
// one of states.
func (d *Daemon) requeueLater(ctx context.Context, id string, states ...store.MessageState) {
	if m, err := d.store.Messages.GetMessage(ctx, id); err == nil && slices.Contains(states, m.State) {
		m.NextAttempt = d.now().Add(d.cfg.Send.RetryBackoff)
		d.sched.Enqueue(m)
	}
}

func backoff(first, max time.Duration, attempt int) time.Duration {
	d := first
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
