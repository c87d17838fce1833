package sending

import (
	"context"
	"fmt"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/scrape"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Depth is how many messages wait for a SIM; *Scheduler knows.
type Depth interface{ QueueDepth() int }

// ScrapeQueue reads the scheduler's queue depth at scrape time.
func ScrapeQueue(q Depth) scrape.Part {
	return scrape.Part{Name: "queue", Defs: []scrape.Def{{Name: "queue_messages", Help: "Messages waiting for a SIM to send them."}},
		Collect: func(_ context.Context, e scrape.Emitter) error {
			e.Gauge("queue_messages", float64(q.QueueDepth()))
			return nil
		}}
}

// MessageCounts counts the stored messages by state (store.Messages).
type MessageCounts interface {
	MessagesByState(ctx context.Context) (map[string]int64, error)
}

// messageStates are the states messages are counted by, each always
// emitted.
var messageStates = []store.MessageState{store.Queued, store.Sending, store.Sent, store.Delivered, store.Undelivered, store.Failed, store.Expired, store.Unknown, store.Cancelled}

// ScrapeMessages counts messages by state at scrape time: one GROUP BY
// over the state index, on the store's reader pool.
func ScrapeMessages(m MessageCounts) scrape.Part {
	return scrape.Part{Name: "messages", Defs: []scrape.Def{{Name: "messages", Help: "Stored messages by state.", Labels: []string{"state"}}},
		Collect: func(ctx context.Context, e scrape.Emitter) error {
			messages, err := m.MessagesByState(ctx)
			if err != nil {
				return err
			}
			for _, s := range messageStates {
				e.Gauge("messages", float64(messages[string(s)]), string(s))
			}
			return nil
		}}
}

// SIMNetworks names a SIM's network and gives its send limits
// (*operators.Operators).
type SIMNetworks interface {
	Limits
	NetworkName(imsi, plmn string) string
}

// simLabels name a SIM's series.
var simLabels = []string{"iccid", "operator", "modem"}

// simStates are the states of sim_state, 1 for the one that holds.
var simStates = []string{store.SIMActive, store.SIMSuspect}

var simDefs = []scrape.Def{
	{Name: "sim_state", Help: "1 for the state the SIM is in (active, suspect), 0 for the others.", Labels: append(simLabels[:3:3], "state")},
	{Name: "sim_receive_stalled", Help: "1 while the SIM sends but has received nothing for longer than receive.stalled_after.", Labels: simLabels},
	{Name: "sim_consecutive_send_failures", Help: "Consecutive failed sends to different recipients; at send.suspect_after the SIM turns suspect.", Labels: simLabels},
	{Name: "sim_last_sent_timestamp_seconds", Help: "When the SIM last sent an SMS part.", Labels: simLabels},
	{Name: "sim_last_received_timestamp_seconds", Help: "When the SIM last received an SMS.", Labels: simLabels},
	{Name: "sim_first_seen_timestamp_seconds", Help: "When the daemon first saw the SIM.", Labels: simLabels},
	{Name: "sim_sent_parts_last_day", Help: "SMS parts the SIM sent in the last 24 hours.", Labels: simLabels},
	{Name: "sim_send_limit_parts", Help: "The SIM's send limit per window (minute, hour, day); absent when unlimited.", Labels: append(simLabels[:3:3], "window")},
}

// ScrapeSIMs reads every SIM in the store at scrape time: its state, sends
// and limits.
func ScrapeSIMs(sims SIMs, nets SIMNetworks, now func() time.Time) scrape.Part {
	return scrape.Part{Name: "sims", Defs: simDefs, Collect: func(ctx context.Context, e scrape.Emitter) error {
		all, err := sims.SIMs(ctx)
		if err != nil {
			return fmt.Errorf("list SIMs: %w", err)
		}
		since := now().Add(-24 * time.Hour)
		for _, sim := range all {
			l := []string{sim.ICCID, nets.NetworkName(sim.IMSI, sim.PLMN), sim.ModemID}
			for _, s := range simStates {
				e.Gauge("sim_state", scrape.Bool(sim.State == s), append(l[:3:3], s)...)
			}
			e.Gauge("sim_receive_stalled", scrape.Bool(sim.ReceiveStalled), l...)
			e.Gauge("sim_consecutive_send_failures", float64(sim.FailStreak), l...)
			e.Timestamp("sim_last_sent_timestamp_seconds", sim.LastSentAt, l...)
			e.Timestamp("sim_last_received_timestamp_seconds", sim.LastReceivedAt, l...)
			e.Timestamp("sim_first_seen_timestamp_seconds", sim.FirstSeen, l...)
			sent, err := sims.SentSince(ctx, sim.ICCID, since)
			if err != nil {
				return fmt.Errorf("count sends of a SIM: %w", err)
			}
			e.Gauge("sim_sent_parts_last_day", float64(len(sent)), l...)
			emitLimits(e, nets.SendLimits(sim.ICCID, sim.IMSI), l)
		}
		return nil
	}}
}

func emitLimits(e scrape.Emitter, limits api.SendLimits, l []string) {
	for _, w := range []struct {
		window string
		limit  int
	}{{"minute", limits.PerMinute}, {"hour", limits.PerHour}, {"day", limits.PerDay}} {
		if w.limit > 0 {
			e.Gauge("sim_send_limit_parts", float64(w.limit), append(l[:3:3], w.window)...)
		}
	}
}
