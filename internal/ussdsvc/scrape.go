package ussdsvc

import (
	"context"
	"fmt"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/scrape"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// BalanceReads are the reads of the balance gauges: every SIM, its
// readings and its balance state (store.Devices and store.Balances).
type BalanceReads interface {
	SIMs(ctx context.Context) ([]store.SIM, error)
	LatestBalances(ctx context.Context, iccid string) (last, lastParsed *store.Balance, err error)
	GetBalanceState(ctx context.Context, iccid string) (store.BalanceState, error)
}

// BalanceSettings name a SIM's network and give its balance_low
// (*operators.Operators).
type BalanceSettings interface {
	NetworkName(imsi, plmn string) string
	SIM(key, imsi string) (config.SIM, bool)
}

// simLabels name a SIM's series, as sending's SIM gauges do.
var simLabels = []string{"iccid", "operator", "modem"}

var balanceDefs = []scrape.Def{
	{Name: "sim_balance_rub", Help: "The SIM's balance in roubles from its newest parsed reading.", Labels: simLabels},
	{Name: "sim_balance_updated_timestamp_seconds", Help: "When the SIM's balance was last read and understood.", Labels: simLabels},
	{Name: "sim_balance_checked_timestamp_seconds", Help: "When the SIM's balance was last read, understood or not.", Labels: simLabels},
	{Name: "sim_balance_low", Help: "1 while the SIM's balance is under its balance_low threshold.", Labels: simLabels},
	{Name: "sim_balance_low_threshold_rub", Help: "The SIM's configured balance_low threshold in roubles.", Labels: simLabels},
	{Name: "sim_balance_parse_failures_total", Help: "Balance replies that could not be understood.", Labels: simLabels},
	{Name: "sim_balance_check_failures_total", Help: "Balance checks that got no reply at all.", Labels: simLabels},
}

// ScrapeBalances reads every SIM's balance at scrape time. It exports only
// amounts the service understood: a raw reply it could not parse counts
// as a parse failure, never as a number.
func ScrapeBalances(st BalanceReads, settings BalanceSettings) scrape.Part {
	return scrape.Part{Name: "balances", Defs: balanceDefs, Collect: func(ctx context.Context, e scrape.Emitter) error {
		sims, err := st.SIMs(ctx)
		if err != nil {
			return fmt.Errorf("list SIMs: %w", err)
		}
		for _, sim := range sims {
			if err := collectBalance(ctx, e, st, settings, sim); err != nil {
				return err
			}
		}
		return nil
	}}
}

func collectBalance(ctx context.Context, e scrape.Emitter, st BalanceReads, settings BalanceSettings, sim store.SIM) error {
	l := []string{sim.ICCID, settings.NetworkName(sim.IMSI, sim.PLMN), sim.ModemID}
	last, parsed, err := st.LatestBalances(ctx, sim.ICCID)
	if err != nil {
		return fmt.Errorf("read balances: %w", err)
	}
	if last != nil {
		e.Timestamp("sim_balance_checked_timestamp_seconds", last.CheckedAt, l...)
	}
	if parsed != nil && (parsed.Currency == "" || parsed.Currency == "RUB") {
		if a, err := ussd.ParseAmount(parsed.Amount); err == nil {
			e.Gauge("sim_balance_rub", float64(a.Kopecks())/100, l...)
			e.Timestamp("sim_balance_updated_timestamp_seconds", parsed.CheckedAt, l...)
		}
	}
	bs, err := st.GetBalanceState(ctx, sim.ICCID)
	if err != nil {
		return fmt.Errorf("read balance state: %w", err)
	}
	e.Gauge("sim_balance_low", scrape.Bool(bs.Low), l...)
	e.Counter("sim_balance_parse_failures_total", float64(bs.ParseFailures), l...)
	e.Counter("sim_balance_check_failures_total", float64(bs.CheckFailures), l...)
	if ov, ok := settings.SIM(sim.ICCID, sim.IMSI); ok && ov.BalanceLow != "" {
		if a, err := ussd.ParseAmount(ov.BalanceLow); err == nil {
			e.Gauge("sim_balance_low_threshold_rub", float64(a.Kopecks())/100, l...)
		}
	}
	return nil
}
