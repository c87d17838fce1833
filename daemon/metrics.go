package daemon

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/health"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/ussd"
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
//     Resets, Reconnects, ...), emitted by collectModems for every modem the
//     daemon knows, configured or hot-plugged, from its owner's creation; a
//     further label with a fixed vocabulary is emitted for each of its
//     values (modem_resets_total: every escalation step);
//   - per SIM: a column of the store (balance_state), emitted by
//     collectSIMs or collectBalances for every SIM in the store;
//   - per webhook: emitted by collectWebhooks for every configured endpoint;
//   - per modem, counted by a feature as events come: a CounterVec whose
//     child the feature makes at 0 when the modem becomes known to it
//     (modem_undecodable_pdus_total: internal/receiving, registered on
//     this registry, when the modem starts taking messages);
//   - labelled only by a fixed vocabulary: a CounterVec whose children
//     the feature's newMetrics makes (internal/ussdsvc, internal/events).
//
// A CounterVec child nobody made beforehand is born at its first Inc: too
// late. The one exception is at_commands_total (and
// at_command_duration_seconds): a child per modem, command and result would
// be hundreds of series of zeros, and the dashboard only shows their rate.
// TestFreshDaemonExposesEveryMetricOpsUses scrapes a fresh daemon and fails
// on any metric ops/ uses that it lacks; the gauges that may be absent
// until known are listed there with why.

// Result vocabularies of the counters other features feed. Values outside
// them are counted as "other": a label must never grow with its input.
var (
	modemStates   = api.ModemStates
	registrations = []string{"home", "roaming", "searching", "denied", "not_registered", "unknown"}
	simStates     = []string{store.SIMActive, store.SIMSuspect}
	messageStates = []store.MessageState{store.Queued, store.Sending, store.Sent, store.Delivered, store.Undelivered, store.Failed, store.Expired, store.Unknown, store.Cancelled}
	confirmStates = payment.States
)

// metrics holds the daemon's Prometheus metrics, in health's registry. Owners
// and features report events into it; everything else is read from
// snapshots (owner status, the store) when scraped, and a scrape never
// sends an AT command. Safe for concurrent use.
type metrics struct {
	reg *prometheus.Registry

	atCommands *prometheus.CounterVec
	atDuration *prometheus.HistogramVec
}

func newMetrics(d *Daemon, reg *prometheus.Registry) *metrics {
	m := &metrics{
		reg: reg,
		atCommands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "at_commands_total",
			Help: "AT commands run on a modem, by command name (arguments never shown) and result.",
		}, []string{"modem", "command", "result"}),
		atDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "at_command_duration_seconds",
			Help:    "Time from asking for an AT command to its answer, by command name.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"command"}),
	}
	m.reg.MustRegister(
		m.atCommands, m.atDuration,
		newSnapshotCollector(d),
	)
	return m
}

// atCommand counts one AT command by its fixed command name and result (see
// atcmd.CommandName and atcmd.Outcome).
func (m *metrics) atCommand(modem, cmd, result string, took time.Duration) {
	m.atCommands.WithLabelValues(modem, cmd, result).Inc()
	m.atDuration.WithLabelValues(cmd).Observe(took.Seconds())
}

// snapshotCollector reads what the daemon already knows at scrape time. Like
// node_exporter's collectors, each part that fails is reported through
// gsmbridge_scrape_collector_success and a log line, and the scrape goes on.
type snapshotCollector struct {
	d     *Daemon
	parts []collectorPart
	desc  map[string]*prometheus.Desc

	success, duration *prometheus.Desc
}

type collectorPart struct {
	name    string
	collect func(ctx context.Context, e emitter) error
}

// emitter sends const metrics by name; names are declared in
// newSnapshotCollector with their help and labels.
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

func newSnapshotCollector(d *Daemon) *snapshotCollector {
	modemL := []string{"modem", "iccid", "operator"}
	simL := []string{"iccid", "operator", "modem"}
	defs := []struct {
		name, help string
		labels     []string
	}{
		{"build_info", "Build of the running daemon; the value is always 1.", []string{"version", "revision", "goversion"}},
		{"modem_info", "A configured modem and its identity; the value is always 1.", []string{"modem", "name", "port", "manufacturer", "model", "revision"}},
		{"modem_state", "1 for the state the modem is in, 0 for the others.", []string{"modem", "state"}},
		{"modem_state_since_timestamp_seconds", "When the modem entered its current state.", []string{"modem"}},
		{"modem_signal_dbm", "Received signal strength from AT+CSQ; absent while unknown.", modemL},
		{"modem_bit_error_rate", "Channel bit error rate (RXQUAL 0-7) from AT+CSQ; absent while unknown.", modemL},
		{"modem_signal_bars", "Signal strength as 0-5 bars, 0 when unknown.", modemL},
		{"modem_registration", "1 for the network registration status of the modem, 0 for the others.", append(modemL[:3:3], "status")},
		{"modem_sms_storage_used_messages", "Messages held in the modem's SMS storage.", modemL},
		{"modem_sms_storage_capacity_messages", "Size of the modem's SMS storage in messages.", modemL},
		{"modem_sent_parts_total", "SMS parts the modem sent since the daemon started.", modemL},
		{"modem_send_failures_total", "SMS parts the modem failed to send since the daemon started.", modemL},
		{"modem_received_messages_total", "SMS the modem received since the daemon started.", modemL},
		{"modem_resets_total", "Escalation steps taken on a modem that stopped answering (reinit, cfun, reopen, alert).", []string{"modem", "step"}},
		{"modem_reconnects_total", "Times a modem's port was opened again after it was lost.", []string{"modem"}},
		{"queue_messages", "Messages waiting for a SIM to send them.", nil},
		{"sim_state", "1 for the state the SIM is in (active, suspect), 0 for the others.", append(simL[:3:3], "state")},
		{"sim_receive_stalled", "1 while the SIM sends but has received nothing for longer than receive.stalled_after.", simL},
		{"sim_consecutive_send_failures", "Consecutive failed sends to different recipients; at send.suspect_after the SIM turns suspect.", simL},
		{"sim_last_sent_timestamp_seconds", "When the SIM last sent an SMS part.", simL},
		{"sim_last_received_timestamp_seconds", "When the SIM last received an SMS.", simL},
		{"sim_first_seen_timestamp_seconds", "When the daemon first saw the SIM.", simL},
		{"sim_sent_parts_last_day", "SMS parts the SIM sent in the last 24 hours.", simL},
		{"sim_send_limit_parts", "The SIM's send limit per window (minute, hour, day); absent when unlimited.", append(simL[:3:3], "window")},
		{"sim_balance_rub", "The SIM's balance in roubles from its newest parsed reading.", simL},
		{"sim_balance_updated_timestamp_seconds", "When the SIM's balance was last read and understood.", simL},
		{"sim_balance_checked_timestamp_seconds", "When the SIM's balance was last read, understood or not.", simL},
		{"sim_balance_low", "1 while the SIM's balance is under its balance_low threshold.", simL},
		{"sim_balance_low_threshold_rub", "The SIM's configured balance_low threshold in roubles.", simL},
		{"sim_balance_parse_failures_total", "Balance replies that could not be understood.", simL},
		{"sim_balance_check_failures_total", "Balance checks that got no reply at all.", simL},
		{"messages", "Stored messages by state.", []string{"state"}},
		{"confirmations", "Stored payment confirmations by state.", []string{"state"}},
		{"webhook_backlog_events", "Events the endpoint selects that are not delivered yet.", []string{"endpoint"}},
		{"webhook_dead_letters", "Events the endpoint gave up on.", []string{"endpoint"}},
		{"webhook_head_attempts", "Delivery attempts so far of the event the endpoint is stuck on.", []string{"endpoint"}},
		{"database_size_bytes", "Size of the database files (db, wal).", []string{"file"}},
		{"data_dir_free_bytes", "Space left for the daemon on the data directory's file system.", nil},
		{"data_dir_size_bytes", "Size of the data directory's file system.", nil},
		{"store_commits_total", "Transactions the store's writer committed.", nil},
		{"store_last_commit_timestamp_seconds", "When the store's writer last committed.", nil},
		{"store_up", "1 while the store's writes become durable, 0 since one failed on the disk, the file system or the database file.", nil},
		{"store_write_failures_total", "Writes the store refused because the disk, the file system or the database file failed.", nil},
	}
	c := &snapshotCollector{d: d, desc: map[string]*prometheus.Desc{},
		success:  prometheus.NewDesc(namespace+"_scrape_collector_success", "1 when the collector read its source, 0 when it failed (see the daemon's log).", []string{"collector"}, nil),
		duration: prometheus.NewDesc(namespace+"_scrape_collector_duration_seconds", "Time the collector took.", []string{"collector"}, nil),
	}
	for _, def := range defs {
		c.desc[def.name] = prometheus.NewDesc(namespace+"_"+def.name, def.help, def.labels, nil)
	}
	c.parts = []collectorPart{
		{"build", collectBuild},
		{"modems", d.collectModems},
		{"sims", d.collectSIMs},
		{"balances", d.collectBalances},
		{"states", d.collectStates},
		{"webhooks", d.collectWebhooks},
		{"storage", d.collectStorage},
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
			c.d.log.Error("metrics collector failed", "collector", p.name, "err", err)
		}
		ch <- prometheus.MustNewConstMetric(c.duration, prometheus.GaugeValue, time.Since(start).Seconds(), p.name)
		ch <- prometheus.MustNewConstMetric(c.success, prometheus.GaugeValue, ok, p.name)
	}
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

// operatorLabel names a SIM's network as the modem snapshot does (profile
// name, else PLMN), so modem and SIM series join on it.
func (d *Daemon) operatorLabel(sim store.SIM) string {
	if p, ok := d.operators.ForIMSI(sim.IMSI); ok && p.Name != "" {
		return p.Name
	}
	return sim.PLMN
}

func (d *Daemon) collectModems(_ context.Context, e emitter) error {
	for _, st := range d.Modems() {
		op := st.Operator.Name
		if op == "" {
			op = st.Operator.PLMN
		}
		l := []string{st.ID, st.ICCID, op}
		e.gauge("modem_info", 1, st.ID, st.Name, st.Port, st.Manufacturer, st.Model, st.Revision)
		for _, s := range modemStates {
			e.gauge("modem_state", boolValue(st.State == s), st.ID, string(s))
		}
		e.timestamp("modem_state_since_timestamp_seconds", st.Since, st.ID)
		if st.BitErrorRate != nil {
			e.gauge("modem_bit_error_rate", float64(*st.BitErrorRate), l...)
		}
		if st.SignalDBm != nil {
			e.gauge("modem_signal_dbm", float64(*st.SignalDBm), l...)
		}
		e.gauge("modem_signal_bars", float64(st.SignalBars), l...)
		if st.Registration != "" {
			for _, r := range registrations {
				e.gauge("modem_registration", boolValue(st.Registration == r), append(l[:3:3], r)...)
			}
		}
		if st.StorageTotal > 0 {
			e.gauge("modem_sms_storage_used_messages", float64(st.StorageUsed), l...)
			e.gauge("modem_sms_storage_capacity_messages", float64(st.StorageTotal), l...)
		}
		e.counter("modem_sent_parts_total", float64(st.Sent), l...)
		e.counter("modem_send_failures_total", float64(st.SendFailures), l...)
		e.counter("modem_received_messages_total", float64(st.Received), l...)
		for _, step := range api.EscalationSteps {
			e.counter("modem_resets_total", float64(st.Resets[step]), st.ID, step)
		}
		e.counter("modem_reconnects_total", float64(st.Reconnects), st.ID)
	}
	e.gauge("queue_messages", float64(d.sched.QueueDepth()))
	return nil
}

func (d *Daemon) collectSIMs(ctx context.Context, e emitter) error {
	sims, err := d.store.Devices.SIMs(ctx)
	if err != nil {
		return fmt.Errorf("list SIMs: %w", err)
	}
	since := d.now().Add(-24 * time.Hour)
	for _, sim := range sims {
		l := []string{sim.ICCID, d.operatorLabel(sim), sim.ModemID}
		for _, s := range simStates {
			e.gauge("sim_state", boolValue(sim.State == s), append(l[:3:3], s)...)
		}
		e.gauge("sim_receive_stalled", boolValue(sim.ReceiveStalled), l...)
		e.gauge("sim_consecutive_send_failures", float64(sim.FailStreak), l...)
		e.timestamp("sim_last_sent_timestamp_seconds", sim.LastSentAt, l...)
		e.timestamp("sim_last_received_timestamp_seconds", sim.LastReceivedAt, l...)
		e.timestamp("sim_first_seen_timestamp_seconds", sim.FirstSeen, l...)
		sent, err := d.store.Devices.SentSince(ctx, sim.ICCID, since)
		if err != nil {
			return fmt.Errorf("count sends of a SIM: %w", err)
		}
		e.gauge("sim_sent_parts_last_day", float64(len(sent)), l...)
		limits := d.operators.SendLimits(sim.ICCID, sim.IMSI)
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
func (d *Daemon) collectBalances(ctx context.Context, e emitter) error {
	sims, err := d.store.Devices.SIMs(ctx)
	if err != nil {
		return fmt.Errorf("list SIMs: %w", err)
	}
	for _, sim := range sims {
		l := []string{sim.ICCID, d.operatorLabel(sim), sim.ModemID}
		last, parsed, err := d.store.Balances.LatestBalances(ctx, sim.ICCID)
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
		st, err := d.store.Balances.GetBalanceState(ctx, sim.ICCID)
		if err != nil {
			return fmt.Errorf("read balance state: %w", err)
		}
		e.gauge("sim_balance_low", boolValue(st.Low), l...)
		e.counter("sim_balance_parse_failures_total", float64(st.ParseFailures), l...)
		e.counter("sim_balance_check_failures_total", float64(st.CheckFailures), l...)
		if ov, ok := d.operators.SIM(sim.ICCID, sim.IMSI); ok && ov.BalanceLow != "" {
			if a, err := ussd.ParseAmount(ov.BalanceLow); err == nil {
				e.gauge("sim_balance_low_threshold_rub", float64(a.Kopecks())/100, l...)
			}
		}
	}
	return nil
}

// collectStates counts messages and confirmations by state: two GROUP BY
// queries over the state indexes, on the store's reader pool.
func (d *Daemon) collectStates(ctx context.Context, e emitter) error {
	messages, err := d.store.Messages.MessagesByState(ctx)
	if err != nil {
		return err
	}
	confirmations, err := d.store.Confirmations.ConfirmationsByState(ctx)
	if err != nil {
		return err
	}
	for _, s := range messageStates {
		e.gauge("messages", float64(messages[string(s)]), string(s))
	}
	for _, s := range confirmStates {
		e.gauge("confirmations", float64(confirmations[string(s)]), string(s))
	}
	return nil
}

func (d *Daemon) collectWebhooks(ctx context.Context, e emitter) error {
	for _, wh := range d.cfg.Webhooks {
		ep := endpointLabel(wh.URL)
		c, err := d.store.Deliveries.GetWebhookCursor(ctx, wh.URL)
		if err != nil {
			return err
		}
		backlog, err := d.store.Events.CountEvents(ctx, c.Cursor, store.EventTypes(wh.Events))
		if err != nil {
			return err
		}
		dead, err := d.store.Deliveries.CountDeadLetters(ctx, wh.URL)
		if err != nil {
			return err
		}
		e.gauge("webhook_backlog_events", float64(backlog), ep)
		e.gauge("webhook_dead_letters", float64(dead), ep)
		e.gauge("webhook_head_attempts", float64(c.Attempts), ep)
	}
	return nil
}

// endpointLabel shows where a webhook goes without what may authenticate it:
// user info and query strings are dropped.
func endpointLabel(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "invalid"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

func (d *Daemon) collectStorage(_ context.Context, e emitter) error {
	// First: a deleted database fails the stat below, and these say why.
	h := d.store.Health()
	e.gauge("store_up", boolValue(h.Err == nil))
	e.counter("store_write_failures_total", float64(h.Failures))
	path := filepath.Join(d.store.Dir(), "gsmbridge.db")
	for _, f := range []struct{ label, path string }{{"db", path}, {"wal", path + "-wal"}} {
		fi, err := os.Stat(f.path)
		if err != nil {
			if f.label == "wal" && os.IsNotExist(err) {
				e.gauge("database_size_bytes", 0, f.label)
				continue
			}
			return fmt.Errorf("database size: %w", err)
		}
		e.gauge("database_size_bytes", float64(fi.Size()), f.label)
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(d.store.Dir(), &fs); err != nil {
		return fmt.Errorf("free space of the data directory: %w", err)
	}
	e.gauge("data_dir_free_bytes", float64(fs.Bavail)*float64(fs.Bsize))
	e.gauge("data_dir_size_bytes", float64(fs.Blocks)*float64(fs.Bsize))
	st := d.store.Stats()
	e.counter("store_commits_total", float64(st.Commits))
	e.timestamp("store_last_commit_timestamp_seconds", st.LastCommit)
	return nil
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
