package ussdsvc

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/scrape"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// balanceRows are two SIMs: one in roubles whose newest reply was not
// understood, one in dollars.
type balanceRows struct{ checked, parsed time.Time }

func (b balanceRows) SIMs(context.Context) ([]store.SIM, error) {
	return []store.SIM{{ICCID: "8970101", PLMN: "25001", ModemID: "m1"}, {ICCID: "8970102", PLMN: "25002", ModemID: "m2"}}, nil
}

func (b balanceRows) LatestBalances(_ context.Context, iccid string) (last, lastParsed *store.Balance, err error) {
	if iccid == "8970102" {
		usd := &store.Balance{ICCID: iccid, Amount: "12.00", Currency: "USD", Parsed: true, CheckedAt: b.parsed}
		return usd, usd, nil
	}
	return &store.Balance{ICCID: iccid, Raw: "Баланс: ???", CheckedAt: b.checked},
		&store.Balance{ICCID: iccid, Amount: "123.45", Currency: "RUB", Parsed: true, CheckedAt: b.parsed}, nil
}

func (b balanceRows) GetBalanceState(_ context.Context, iccid string) (store.BalanceState, error) {
	if iccid == "8970102" {
		return store.BalanceState{}, nil
	}
	return store.BalanceState{Low: true, ParseFailures: 1, CheckFailures: 2}, nil
}

type balanceSettings struct{}

func (balanceSettings) NetworkName(_, plmn string) string { return plmn }
func (balanceSettings) SIM(key, _ string) (config.SIM, bool) {
	return config.SIM{BalanceLow: "200.50"}, key == "8970101"
}

// Only amounts understood in roubles are numbers; a reply not understood
// is a parse failure and leaves the last understood amount standing.
func TestScrapeBalances(t *testing.T) {
	rows := balanceRows{checked: time.Unix(1796475600, 0), parsed: time.Unix(1796472000, 0)}
	c := scrape.New(slog.New(slog.DiscardHandler), ScrapeBalances(rows, balanceSettings{}))
	const l1, l2 = `iccid="8970101",modem="m1",operator="25001"`, `iccid="8970102",modem="m2",operator="25002"`
	want := `
# HELP gsmbridge_sim_balance_rub The SIM's balance in roubles from its newest parsed reading.
# TYPE gsmbridge_sim_balance_rub gauge
gsmbridge_sim_balance_rub{` + l1 + `} 123.45
# HELP gsmbridge_sim_balance_updated_timestamp_seconds When the SIM's balance was last read and understood.
# TYPE gsmbridge_sim_balance_updated_timestamp_seconds gauge
gsmbridge_sim_balance_updated_timestamp_seconds{` + l1 + `} 1.796472e+09
# HELP gsmbridge_sim_balance_checked_timestamp_seconds When the SIM's balance was last read, understood or not.
# TYPE gsmbridge_sim_balance_checked_timestamp_seconds gauge
gsmbridge_sim_balance_checked_timestamp_seconds{` + l1 + `} 1.7964756e+09
gsmbridge_sim_balance_checked_timestamp_seconds{` + l2 + `} 1.796472e+09
# HELP gsmbridge_sim_balance_low 1 while the SIM's balance is under its balance_low threshold.
# TYPE gsmbridge_sim_balance_low gauge
gsmbridge_sim_balance_low{` + l1 + `} 1
gsmbridge_sim_balance_low{` + l2 + `} 0
# HELP gsmbridge_sim_balance_low_threshold_rub The SIM's configured balance_low threshold in roubles.
# TYPE gsmbridge_sim_balance_low_threshold_rub gauge
gsmbridge_sim_balance_low_threshold_rub{` + l1 + `} 200.5
# HELP gsmbridge_sim_balance_parse_failures_total Balance replies that could not be understood.
# TYPE gsmbridge_sim_balance_parse_failures_total counter
gsmbridge_sim_balance_parse_failures_total{` + l1 + `} 1
gsmbridge_sim_balance_parse_failures_total{` + l2 + `} 0
# HELP gsmbridge_sim_balance_check_failures_total Balance checks that got no reply at all.
# TYPE gsmbridge_sim_balance_check_failures_total counter
gsmbridge_sim_balance_check_failures_total{` + l1 + `} 2
gsmbridge_sim_balance_check_failures_total{` + l2 + `} 0
`
	var names []string
	for _, d := range balanceDefs {
		names = append(names, scrape.Namespace+"_"+d.Name)
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}
