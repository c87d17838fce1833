package service

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gsmbridge/gsmbridge/internal/health"
)

const namespace = "gsmbridge"

// Counters exist at 0 from the moment what they count for is known.
//
// increase() and rate() see only the change between two samples, so a
// series born at 1 hides its first event: the first modem to reach the end
// of its escalation would never page. Every counter an alert rule or the
// dashboard reads is therefore there at 0 for each modem, SIM, webhook and
// fixed label value before anything is counted. To add a counter:
//
//   - per modem: a field of ModemStatus that the owner updates (Sent,
//     Resets, Reconnects, ...), emitted by modemCollector for every modem the
//     daemon knows, configured or hot-plugged, from its owner's creation; a
//     further label with a fixed vocabulary is emitted for each of its
//     values (modem_resets_total: every escalation step);
//   - per SIM: a column of the store (balance_state), emitted by
//     simCollector (sims or balances) for every SIM in the store;
//   - per webhook: emitted by storeCollector for every configured endpoint;
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
// What the daemon itself exposes is read from snapshots (owner status, the
// store) when scraped, by the snapshot collector, and a scrape never sends
// an AT command.
type metrics struct {
	reg *prometheus.Registry
}

func newMetrics(reg *prometheus.Registry) *metrics { return &metrics{reg: reg} }

// snapshotCollector reads what the daemon already knows at scrape time. Like
// node_exporter's collectors, each part that fails is reported through
// gsmbridge_scrape_collector_success and a log line, and the scrape goes on.
type snapshotCollector struct {
	log   *slog.Logger
	parts []collectorPart
	desc  map[string]*prometheus.Desc

	success, duration *prometheus.Desc
}

type collectorPart struct {
	name    string
	defs    []metricDef // the metrics it emits
	collect func(ctx context.Context, e emitter) error
}

// metricDef declares a metric a part emits: its name after the namespace,
// help and labels.
type metricDef struct {
	name, help string
	labels     []string
}

// emitter sends const metrics by name; names are declared in
// each part's defs with their help and labels.
type emitter struct {
	ch   chan<- prometheus.Metric
	desc map[string]*prometheus.Desc
}

func (e emitter) gauge(name string, v float64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(e.desc[name], prometheus.GaugeValue, v, labels...)
}

func (e emitter) counter(name string, v float64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(e.desc[name], prometheus.CounterValue, v, labels...)
}

// timestamp emits a unix-seconds gauge, or nothing for a time never set:
// a zero would read as "fifty years ago" in every alert.
func (e emitter) timestamp(name string, t time.Time, labels ...string) {
	if !t.IsZero() {
		e.gauge(name, float64(t.UnixMilli())/1000, labels...)
	}
}

func newSnapshotCollector(d *Service) *snapshotCollector {
	sims := simCollector{devices: d.store.Devices, balances: d.store.Balances, operators: d.operators, now: d.now}
	st := storeCollector{store: d.store, webhooks: d.cfg.Webhooks}
	c := &snapshotCollector{log: d.log, desc: map[string]*prometheus.Desc{},
		success:  prometheus.NewDesc(namespace+"_scrape_collector_success", "1 when the collector read its source, 0 when it failed (see the daemon's log).", []string{"collector"}, nil),
		duration: prometheus.NewDesc(namespace+"_scrape_collector_duration_seconds", "Time the collector took.", []string{"collector"}, nil),
		parts: []collectorPart{
			{"build", buildDefs, collectBuild},
			{"modems", modemDefs, modemCollector{modems: d.modems, queue: d.sched}.collect},
			{"sims", simDefs, sims.collectSIMs},
			{"balances", balanceDefs, sims.collectBalances},
			{"states", stateDefs, st.collectStates},
			{"webhooks", webhookDefs, st.collectWebhooks},
			{"storage", storageDefs, st.collectStorage},
		},
	}
	for _, p := range c.parts {
		for _, def := range p.defs {
			c.desc[def.name] = prometheus.NewDesc(namespace+"_"+def.name, def.help, def.labels, nil)
		}
	}
	return c
}

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.desc {
		ch <- d
	}
	ch <- c.success
	ch <- c.duration
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), health.ScrapeTimeout)
	defer cancel()
	e := emitter{ch: ch, desc: c.desc}
	for _, p := range c.parts {
		start := time.Now()
		err := p.collect(ctx, e)
		ok := 1.0
		if err != nil {
			ok = 0
			c.log.Error("metrics collector failed", "collector", p.name, "err", err)
		}
		ch <- prometheus.MustNewConstMetric(c.duration, prometheus.GaugeValue, time.Since(start).Seconds(), p.name)
		ch <- prometheus.MustNewConstMetric(c.success, prometheus.GaugeValue, ok, p.name)
	}
}

var buildDefs = []metricDef{
	{"build_info", "Build of the running daemon; the value is always 1.", []string{"version", "revision", "goversion"}},
}

func collectBuild(_ context.Context, e emitter) error {
	version, revision, goversion := "unknown", "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version, goversion = bi.Main.Version, bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	e.gauge("build_info", 1, version, revision, goversion)
	return nil
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
