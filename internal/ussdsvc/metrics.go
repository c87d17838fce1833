package ussdsvc

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// requestResults are the values of ussd_requests_total's result label.
var requestResults = []string{"ok", "menu", "terminated", "not_supported", "network_timeout", "timeout", "refused", "busy", "error"}

type metrics struct {
	requests *prometheus.CounterVec
	duration prometheus.Histogram
}

// newMetrics registers the USSD metrics on reg (none: a private registry),
// each result present at 0 so that rate() works from the first scrape.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "gsmbridge", Name: "ussd_requests_total",
			Help: "USSD requests by result.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "gsmbridge", Name: "ussd_request_duration_seconds",
			Help:    "Time from sending a USSD request to its final answer or failure.",
			Buckets: []float64{1, 2, 5, 10, 15, 20, 30, 45, 60, 90},
		}),
	}
	for _, r := range requestResults {
		m.requests.WithLabelValues(r)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// request counts one USSD request by result (ok, menu, terminated,
// not_supported, network_timeout, timeout, refused, busy, error) and
// observes how long it took; an unknown result counts as "other", so the
// label set never grows with what a network answers.
func (m *metrics) request(result string, took time.Duration) {
	if !slices.Contains(requestResults, result) {
		result = "other"
	}
	m.requests.WithLabelValues(result).Inc()
	m.duration.Observe(took.Seconds())
}
