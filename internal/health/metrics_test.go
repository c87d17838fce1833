package health

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// /metrics serves what features register, with the Go runtime's and the
// process's metrics and the handler's own.
func TestMetricsServesTheRegistry(t *testing.T) {
	m := NewMetrics()
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "gsmbridge", Name: "test_total", Help: "A test counter."})
	m.Registry().MustRegister(c)
	c.Inc()
	rec := httptest.NewRecorder()
	m.Routes()[0].Handler(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{"gsmbridge_test_total 1\n", "go_goroutines ", "gsmbridge_process_open_fds ", "promhttp_metric_handler_requests_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
