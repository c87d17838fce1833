package fleet

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the fleet's series (gsmbridge_fleet_*). Counters exist at 0
// from the start, so that increase() sees the first event.
type metrics struct {
	publish    prometheus.Histogram
	pulled     prometheus.Counter
	claimsLost prometheus.Counter
	stranded   *prometheus.GaugeVec
	pending    prometheus.Gauge
	// modemsSharingID is set by the node's survey loop.
	modemsSharingID prometheus.Gauge
	connected       prometheus.GaugeFunc
	eventLag        prometheus.GaugeFunc
	clockLag        prometheus.GaugeFunc
	collectors      []prometheus.Collector
}

func newMetrics(c *Conn) *metrics {
	const ns, sub = "gsmbridge", "fleet"
	m := &metrics{
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "publish_seconds",
			Help:    "Time from an API request's publish to the cluster's acknowledgement that it stored the work.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}),
		pulled: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "pulled_total",
			Help: "Pieces of work this host took from the fleet (claimed, stored and acknowledged)."}),
		claimsLost: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "claims_lost_total",
			Help: "Deliveries of work another host had already claimed (a slow or paused host's redelivery), dropped here."}),
		stranded: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "stranded",
			Help: "Unfinished work held by hosts whose heartbeat stopped, by host and claim state (taken can be released; sending cannot)."},
			[]string{"host", "state"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "pending",
			Help: "Work accepted by the fleet that no host has taken yet."}),
		modemsSharingID: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "modems_sharing_id",
			Help: "Modems of this host whose id (the IMEI, which clone modems repeat) a modem of another live host also has: messages cannot be pinned to them."}),
		connected: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "connected",
			Help: "1 while this host is connected to a NATS server of the fleet."}, func() float64 {
			if c.Connected() {
				return 1
			}
			return 0
		}),
	}
	m.eventLag = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "event_lag",
		Help: "Events of this host's log that the fleet's event stream has not stored yet."}, func() float64 {
		if p := c.publisher.Load(); p != nil {
			return float64(p.Lag())
		}
		return 0
	})
	m.clockLag = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "clock_behind_seconds",
		Help: "How far this host's clock ran behind the cluster's at its last heartbeat (negative: ahead). A host behind keeps other hosts' work past its expiry."},
		func() float64 { return time.Duration(c.clock.lag.Load()).Seconds() })
	m.collectors = []prometheus.Collector{m.publish, m.pulled, m.claimsLost, m.stranded, m.pending, m.modemsSharingID, m.connected, m.eventLag, m.clockLag}
	return m
}

// Register adds the fleet's series to reg.
func (c *Conn) Register(reg prometheus.Registerer) error {
	for _, col := range c.m.collectors {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}

// Describe sends the descriptors of the fleet's series, which a host
// exposes only in a fleet: tests of the alert rules check against them.
func Describe(ch chan<- *prometheus.Desc) {
	for _, col := range newMetrics(&Conn{}).collectors {
		col.Describe(ch)
	}
}
