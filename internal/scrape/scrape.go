// Package scrape exposes what the service already knows (owner snapshots,
// store rows) as Prometheus metrics read at scrape time. Each feature
// declares the metrics it owns as a Part; the service registers one
// Collector made of every feature's parts. A scrape never sends an AT
// command: the parts read snapshots and the store.
package scrape

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace prefixes every metric name.
const Namespace = "gsmbridge"

// Timeout bounds the store reads of one scrape, under Prometheus' default
// scrape timeout of 10 s so a slow disk shows up as failed parts rather
// than as a failed scrape.
const Timeout = 4 * time.Second

// Def declares a metric a part emits: its name after the namespace, help and
// labels.
type Def struct {
	Name, Help string
	Labels     []string
}

// Part is one source read at scrape time. Name labels its
// gsmbridge_scrape_collector_success and _duration_seconds series; Collect
// emits only metrics declared in Defs.
type Part struct {
	Name    string
	Defs    []Def
	Collect func(ctx context.Context, e Emitter) error
}

// Join makes one part, named name, of parts owned by different features
// that are reported together: each runs in order, and the first error
// fails the whole.
func Join(name string, parts ...Part) Part {
	j := Part{Name: name}
	for _, p := range parts {
		j.Defs = append(j.Defs, p.Defs...)
	}
	j.Collect = func(ctx context.Context, e Emitter) error {
		for _, p := range parts {
			if err := p.Collect(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}
	return j
}

// Emitter sends const metrics by the names declared in the parts' Defs.
type Emitter struct {
	ch   chan<- prometheus.Metric
	desc map[string]*prometheus.Desc
}

// Gauge emits the gauge name.
func (e Emitter) Gauge(name string, v float64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(e.desc[name], prometheus.GaugeValue, v, labels...)
}

// Counter emits the counter name, whose value its owner keeps.
func (e Emitter) Counter(name string, v float64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(e.desc[name], prometheus.CounterValue, v, labels...)
}

// Timestamp emits a unix-seconds gauge, or nothing for a time never set:
// a zero would read as "fifty years ago" in every alert.
func (e Emitter) Timestamp(name string, t time.Time, labels ...string) {
	if !t.IsZero() {
		e.Gauge(name, float64(t.UnixMilli())/1000, labels...)
	}
}

// Bool is a condition as a gauge's value.
func Bool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Collector runs the parts at each scrape. Like node_exporter's collectors,
// a part that fails is reported through gsmbridge_scrape_collector_success
// and a log line, and the scrape goes on. Safe for concurrent use.
type Collector struct {
	log   *slog.Logger
	parts []Part
	desc  map[string]*prometheus.Desc

	success, duration *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// New makes the collector of parts; log takes the failures.
func New(log *slog.Logger, parts ...Part) *Collector {
	c := &Collector{log: log, parts: parts, desc: map[string]*prometheus.Desc{},
		success:  prometheus.NewDesc(Namespace+"_scrape_collector_success", "1 when the collector read its source, 0 when it failed (see the daemon's log).", []string{"collector"}, nil),
		duration: prometheus.NewDesc(Namespace+"_scrape_collector_duration_seconds", "Time the collector took.", []string{"collector"}, nil),
	}
	for _, p := range parts {
		for _, def := range p.Defs {
			c.desc[def.Name] = prometheus.NewDesc(Namespace+"_"+def.Name, def.Help, def.Labels, nil)
		}
	}
	return c
}

// Describe sends every metric the parts declare, and the two about the
// parts themselves.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.desc {
		ch <- d
	}
	ch <- c.success
	ch <- c.duration
}

// Collect runs each part within Timeout.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	e := Emitter{ch: ch, desc: c.desc}
	for _, p := range c.parts {
		start := time.Now()
		err := p.Collect(ctx, e)
		ok := 1.0
		if err != nil {
			ok = 0
			c.log.Error("metrics collector failed", "collector", p.Name, "err", err)
		}
		ch <- prometheus.MustNewConstMetric(c.duration, prometheus.GaugeValue, time.Since(start).Seconds(), p.Name)
		ch <- prometheus.MustNewConstMetric(c.success, prometheus.GaugeValue, ok, p.Name)
	}
}
