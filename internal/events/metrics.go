package events

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// deliveryResults are the values of webhook_deliveries_total's result label.
var deliveryResults = []string{"delivered", "failed", "dead_letter"}

type metrics struct {
	deliveries *prometheus.CounterVec
}

// newMetrics registers the counter on reg (none: a private registry), each
// result present at 0 so that rate() works from the first scrape.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gsmbridge", Name: "webhook_deliveries_total",
		Help: "Webhook delivery attempts by result (delivered, failed, dead_letter).",
	}, []string{"result"})}
	for _, r := range deliveryResults {
		m.deliveries.WithLabelValues(r)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if err := reg.Register(m.deliveries); err != nil {
		return nil, err
	}
	return m, nil
}

// delivery counts one delivery attempt by result; an unknown result counts
// as "other", so the label set never grows.
func (m *metrics) delivery(result string) {
	if !slices.Contains(deliveryResults, result) {
		result = "other"
	}
	m.deliveries.WithLabelValues(result).Inc()
}
