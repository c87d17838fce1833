package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SIM states.
const (
	SIMActive  = "active"
	SIMSuspect = "suspect"
)

// SendOutcome updates a SIM's failure streak after a send. Operators block
// SIMs that look like spam senders, and a blocked SIM fails every send, so
// threshold consecutive failures to *different* recipients turn the SIM
// suspect (a bad number failing again and again says nothing about the SIM).
// becameSuspect is true on the transition.
func (dv Devices) SendOutcome(ctx context.Context, iccid, recipient string, failed bool, threshold int) (sim SIM, becameSuspect bool, err error) {
	s := dv.s
	err = s.Write(ctx, func(t *Tx) error {
		cur, err := getSIM(t, iccid)
		if err != nil {
			return err
		}
		var recipients []string
		if cur.failRecipients != "" {
			recipients = strings.Split(cur.failRecipients, ",")
		}
		if !failed {
			if cur.FailStreak == 0 {
				sim = cur
				return nil
			}
			recipients = nil
		} else {
			sum := sha256.Sum256([]byte(recipient))
			h := hex.EncodeToString(sum[:6])
			if !slices.Contains(recipients, h) {
				recipients = append(recipients, h)
			}
		}
		state, reason, since := cur.State, cur.StateReason, ms(cur.StateSince)
		if failed && len(recipients) >= threshold && cur.State != SIMSuspect {
			state, since, becameSuspect = SIMSuspect, ms(t.now), true
			reason = fmt.Sprintf("%d consecutive sends to different recipients failed", len(recipients))
		}
		if _, err := t.exec("UPDATE sims SET fail_streak=?, fail_recipients=?, state=?, state_reason=?, state_since=? WHERE iccid=?",
			len(recipients), strings.Join(recipients, ","), state, reason, since, iccid); err != nil {
			return err
		}
		if becameSuspect {
			return simEvent(t, iccid, "sim.suspect", &sim)
		}
		sim, err = getSIM(t, iccid)
		return err
	})
	return sim, becameSuspect, err
}

// ResumeSIM puts a suspect SIM back to work.
func (dv Devices) ResumeSIM(ctx context.Context, iccid, reason string) (SIM, error) {
	s := dv.s
	var sim SIM
	err := s.Write(ctx, func(t *Tx) error {
		cur, err := getSIM(t, iccid)
		if err != nil {
			return err
		}
		if cur.State != SIMSuspect {
			sim = cur
			return nil
		}
		if _, err := t.exec("UPDATE sims SET state=?, state_reason=?, state_since=?, fail_streak=0, fail_recipients='' WHERE iccid=?",
			SIMActive, reason, ms(t.now), iccid); err != nil {
			return err
		}
		return simEvent(t, iccid, "sim.resumed", &sim)
	})
	return sim, err
}

// simEvent bumps a SIM's sequence number and appends an event carrying it.
func simEvent(t *Tx, iccid, typ string, out *SIM) error {
	if _, err := t.exec("UPDATE sims SET seq=seq+1 WHERE iccid=?", iccid); err != nil {
		return err
	}
	sim, err := getSIM(t, iccid)
	if err != nil {
		return err
	}
	*out = sim
	return appendEvent(t, typ, "sim", iccid, sim.Seq, SIMView(&sim))
}

// StalledSIMs returns the SIMs whose receiving looks stalled at now: they
// have received before, nothing for longer than after, and sent successfully
// since their last received SMS. Such silence is the classic sign of
// indications switched off or storage full.
func (dv Devices) StalledSIMs(ctx context.Context, now time.Time, after time.Duration) (stalled, flagged []string, err error) {
	s := dv.s
	rows, err := s.rdb.QueryContext(ctx, `SELECT iccid, receive_stalled,
		(last_received_at > 0 AND last_received_at < ? AND last_sent_at > last_received_at) FROM sims`, ms(now.Add(-after)))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var iccid string
		var was, is bool
		if err := rows.Scan(&iccid, &was, &is); err != nil {
			return nil, nil, err
		}
		if is {
			stalled = append(stalled, iccid)
		}
		if was {
			flagged = append(flagged, iccid)
		}
	}
	return stalled, flagged, rows.Err()
}

// SetReceiveStalled records the stalled flag of a SIM, announcing a change as
// receiving.stalled or receiving.resumed (once per change).
func (dv Devices) SetReceiveStalled(ctx context.Context, iccid string, stalled bool) error {
	s := dv.s
	return s.Write(ctx, func(t *Tx) error {
		res, err := t.exec("UPDATE sims SET receive_stalled=? WHERE iccid=? AND receive_stalled!=?", boolInt(stalled), iccid, boolInt(stalled))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		typ := "receiving.resumed"
		if stalled {
			typ = "receiving.stalled"
		}
		var sim SIM
		return simEvent(t, iccid, typ, &sim)
	})
}
