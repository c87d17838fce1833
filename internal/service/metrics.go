package service

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gsmbridge/gsmbridge/internal/confirm"
	"github.com/gsmbridge/gsmbridge/internal/health"
	"github.com/gsmbridge/gsmbridge/internal/modem"
	"github.com/gsmbridge/gsmbridge/internal/scrape"
	"github.com/gsmbridge/gsmbridge/internal/sending"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/internal/ussdsvc"
)

// Counters exist at 0 from the moment what they count for is known.
//
// increase() and rate() see only the change between two samples, so a
// series born at 1 hides its first event: the first modem to reach the end
// of its escalation would never page. Every counter an alert rule or the
// dashboard reads is therefore there at 0 for each modem, SIM, webhook and
// fixed label value before anything is counted. To add a counter:
//
//   - per modem: a field of api.Modem that the owner updates (Sent,
//     Resets, Reconnects, ...), emitted by modem.ScrapeModems for every
//     modem the daemon knows, configured or hot-plugged, from its owner's creation; a
//     further label with a fixed vocabulary is emitted for each of its
//     values (modem_resets_total: every escalation step);
//   - per SIM: a column of the store (balance_state), emitted by
//     sending.ScrapeSIMs or ussdsvc.ScrapeBalances for every SIM in the
//     store;
//   - per webhook: emitted by events' ScrapeWebhooks for every configured
//     endpoint;
//   - per modem, counted by a feature as events come: a CounterVec whose
//     child the feature makes at 0 when the modem becomes known to it
//     (modem_undecodable_pdus_total: internal/receiving, registered on
//     this registry, when the modem starts taking messages);
//   - labelled only by a fixed vocabulary: a CounterVec whose children
//     the feature's newMetrics makes (internal/ussdsvc, internal/events).
//
// A CounterVec child nobody made beforehand is born at its first Inc: too
// late. The one exception is at_commands_total (and
// at_command_duration_seconds, internal/modem): a child per modem, command and result would
// be hundreds of series of zeros, and the dashboard only shows their rate.
// TestFreshDaemonExposesEveryMetricOpsUses scrapes a fresh daemon and fails
// on any metric ops/ uses that it lacks; the gauges that may be absent
// until known are listed there with why.

// metrics is the registry the features register their series on (health's).
// What the features know already is read from snapshots (owner status, the
// store) when scraped, by the snapshot collector, and a scrape never sends
// an AT command.
type metrics struct {
	reg *prometheus.Registry
}

func newMetrics(reg *prometheus.Registry) *metrics { return &metrics{reg: reg} }

// newSnapshotCollector reads what the features already know at scrape
// time: each feature declares the gauges it owns as a scrape.Part, and the
// parts' names are the collector label of
// gsmbridge_scrape_collector_success (docs/operations.md lists them).
func newSnapshotCollector(d *Service) *scrape.Collector {
	st := d.store
	return scrape.New(d.log,
		health.ScrapeBuild(),
		scrape.Join("modems", modem.ScrapeModems(d.modems), sending.ScrapeQueue(d.sched)),
		sending.ScrapeSIMs(st.Devices, d.operators, d.now),
		ussdsvc.ScrapeBalances(balanceReads{st.Devices, st.Balances}, d.operators),
		scrape.Join("states", sending.ScrapeMessages(st.Messages), confirm.ScrapeConfirmations(st.Confirmations)),
		d.events.ScrapeWebhooks(),
		health.ScrapeStorage(st),
	)
}

// balanceReads are the SIMs and their balances as the balance gauges read
// them: two facades of the store.
type balanceReads struct {
	store.Devices
	store.Balances
}
