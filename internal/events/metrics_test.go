package events

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Every result is there at 0 from the start, and a result outside the
// vocabulary counts as "other": a URL or an error text never becomes a
// label.
func TestDeliveryLabelsStayInTheirVocabulary(t *testing.T) {
	reg := prometheus.NewRegistry()
	e, err := New(nil, nil, Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	e.metrics.delivery("delivered")
	e.metrics.delivery("HTTP 500 from https://example.com/?token=x")

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`gsmbridge_webhook_deliveries_total{result="delivered"} 1`,
		`gsmbridge_webhook_deliveries_total{result="other"} 1`,
		`gsmbridge_webhook_deliveries_total{result="dead_letter"} 0`,
		`gsmbridge_webhook_deliveries_total{result="failed"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "example.com") {
		t.Error("/metrics shows the endpoint's URL")
	}
}
