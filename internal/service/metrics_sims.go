package service

import (
	"context"
	"fmt"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/operators"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// simCollector reads every SIM in the store: its state, sends and limits
// (sims), and its balance (balances).
type simCollector struct {
	devices   store.Devices
	balances  store.Balances
	operators *operators.Operators
	now       func() time.Time
}

// simLabels name a SIM's series.
var simLabels = []string{"iccid", "operator", "modem"}

// simStates are the states of sim_state, 1 for the one that holds.
var simStates = []string{store.SIMActive, store.SIMSuspect}

var simDefs = []metricDef{
	{"sim_state", "1 for the state the SIM is in (active, suspect), 0 for the others.", append(simLabels[:3:3], "state")},
	{"sim_receive_stalled", "1 while the SIM sends but has received nothing for longer than receive.stalled_after.", simLabels},
	{"sim_consecutive_send_failures", "Consecutive failed sends to different recipients; at send.suspect_after the SIM turns suspect.", simLabels},
	{"sim_last_sent_timestamp_seconds", "When the SIM last sent an SMS part.", simLabels},
	{"sim_last_received_timestamp_seconds", "When the SIM last received an SMS.", simLabels},
	{"sim_first_seen_timestamp_seconds", "When the daemon first saw the SIM.", simLabels},
	{"sim_sent_parts_last_day", "SMS parts the SIM sent in the last 24 hours.", simLabels},
	{"sim_send_limit_parts", "The SIM's send limit per window (minute, hour, day); absent when unlimited.", append(simLabels[:3:3], "window")},
}

var balanceDefs = []metricDef{
	{"sim_balance_rub", "The SIM's balance in roubles from its newest parsed reading.", simLabels},
	{"sim_balance_updated_timestamp_seconds", "When the SIM's balance was last read and understood.", simLabels},
	{"sim_balance_checked_timestamp_seconds", "When the SIM's balance was last read, understood or not.", simLabels},
	{"sim_balance_low", "1 while the SIM's balance is under its balance_low threshold.", simLabels},
	{"sim_balance_low_threshold_rub", "The SIM's configured balance_low threshold in roubles.", simLabels},
	{"sim_balance_parse_failures_total", "Balance replies that could not be understood.", simLabels},
	{"sim_balance_check_failures_total", "Balance checks that got no reply at all.", simLabels},
}

// operatorLabel names a SIM's network as the modem snapshot does (profile
// name, else PLMN), so modem and SIM series join on it.
func (c simCollector) operatorLabel(sim store.SIM) string {
	if p, ok := c.operators.ForIMSI(sim.IMSI); ok && p.Name != "" {
		return p.Name
	}
	return sim.PLMN
}

func (c simCollector) collectSIMs(ctx context.Context, e emitter) error {
	sims, err := c.devices.SIMs(ctx)
	if err != nil {
		return fmt.Errorf("list SIMs: %w", err)
	}
	since := c.now().Add(-24 * time.Hour)
	for _, sim := range sims {
		l := []string{sim.ICCID, c.operatorLabel(sim), sim.ModemID}
		for _, s := range simStates {
			e.gauge("sim_state", boolValue(sim.State == s), append(l[:3:3], s)...)
		}
		e.gauge("sim_receive_stalled", boolValue(sim.ReceiveStalled), l...)
		e.gauge("sim_consecutive_send_failures", float64(sim.FailStreak), l...)
		e.timestamp("sim_last_sent_timestamp_seconds", sim.LastSentAt, l...)
		e.timestamp("sim_last_received_timestamp_seconds", sim.LastReceivedAt, l...)
		e.timestamp("sim_first_seen_timestamp_seconds", sim.FirstSeen, l...)
		sent, err := c.devices.SentSince(ctx, sim.ICCID, since)
		if err != nil {
			return fmt.Errorf("count sends of a SIM: %w", err)
		}
		e.gauge("sim_sent_parts_last_day", float64(len(sent)), l...)
		limits := c.operators.SendLimits(sim.ICCID, sim.IMSI)
		for _, w := range []struct {
			window string
			limit  int
		}{{"minute", limits.PerMinute}, {"hour", limits.PerHour}, {"day", limits.PerDay}} {
			if w.limit > 0 {
				e.gauge("sim_send_limit_parts", float64(w.limit), append(l[:3:3], w.window)...)
			}
		}
	}
	return nil
}

// collectBalances exports only amounts the daemon understood: a raw reply
// it could not parse counts as a parse failure, never as a number.
func (c simCollector) collectBalances(ctx context.Context, e emitter) error {
	sims, err := c.devices.SIMs(ctx)
	if err != nil {
		return fmt.Errorf("list SIMs: %w", err)
	}
	for _, sim := range sims {
		l := []string{sim.ICCID, c.operatorLabel(sim), sim.ModemID}
		last, parsed, err := c.balances.LatestBalances(ctx, sim.ICCID)
		if err != nil {
			return fmt.Errorf("read balances: %w", err)
		}
		if last != nil {
			e.timestamp("sim_balance_checked_timestamp_seconds", last.CheckedAt, l...)
		}
		if parsed != nil && (parsed.Currency == "" || parsed.Currency == "RUB") {
			if a, err := ussd.ParseAmount(parsed.Amount); err == nil {
				e.gauge("sim_balance_rub", float64(a.Kopecks())/100, l...)
				e.timestamp("sim_balance_updated_timestamp_seconds", parsed.CheckedAt, l...)
			}
		}
		st, err := c.balances.GetBalanceState(ctx, sim.ICCID)
		if err != nil {
			return fmt.Errorf("read balance state: %w", err)
		}
		e.gauge("sim_balance_low", boolValue(st.Low), l...)
		e.counter("sim_balance_parse_failures_total", float64(st.ParseFailures), l...)
		e.counter("sim_balance_check_failures_total", float64(st.CheckFailures), l...)
		if ov, ok := c.operators.SIM(sim.ICCID, sim.IMSI); ok && ov.BalanceLow != "" {
			if a, err := ussd.ParseAmount(ov.BalanceLow); err == nil {
				e.gauge("sim_balance_low_threshold_rub", float64(a.Kopecks())/100, l...)
			}
		}
	}
	return nil
}
