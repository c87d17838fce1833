package health

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/scrape"
)

// Metrics is the service's own Prometheus registry, never the global one,
// and GET /metrics serving it. Features register on Registry. Safe for
// concurrent use.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler
}

// NewMetrics makes the registry with the Go runtime's and the process's
// collectors in it.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: "gsmbridge"}),
	)
	return &Metrics{reg: reg, handler: promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		Registry:            reg,
		MaxRequestsInFlight: 2,
		Timeout:             scrape.Timeout + 2*time.Second,
	}))}
}

// Registry takes the features' metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Routes serve /metrics. It is open: a scraper has no token, and it shows no
// phone number or text.
func (m *Metrics) Routes() []httpapi.Route {
	return []httpapi.Route{{Method: "GET", Pattern: "/metrics", Open: true, Handler: m.handler.ServeHTTP}}
}
