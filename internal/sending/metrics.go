package sending

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	acceptToSent prometheus.Histogram
}

// newMetrics registers the send-latency histogram on reg (none: a private
// registry).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{acceptToSent: prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "gsmbridge", Name: "send_latency_seconds",
		Help:    "Time from a message being accepted by the API to its last part being sent.",
		Buckets: []float64{.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
	})}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if err := reg.Register(m.acceptToSent); err != nil {
		return nil, err
	}
	return m, nil
}

// sendLatency observes accept → sent of one message.
func (m *metrics) sendLatency(took time.Duration) { m.acceptToSent.Observe(took.Seconds()) }
