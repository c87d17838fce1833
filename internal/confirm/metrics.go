package confirm

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	replyLatency prometheus.Histogram
}

// newMetrics registers the reply-latency histogram on reg (none: a private
// registry).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{replyLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "gsmbridge", Name: "confirmation_reply_seconds",
		Help:    "Time from a confirmation SMS being sent to the customer's reply.",
		Buckets: []float64{10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200},
	})}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if err := reg.Register(m.replyLatency); err != nil {
		return nil, err
	}
	return m, nil
}

// reply observes the time from a confirmation SMS being sent to the
// customer's reply.
func (m *metrics) reply(took time.Duration) { m.replyLatency.Observe(took.Seconds()) }
