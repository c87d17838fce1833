package ussdsvc

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Every result is there at 0 from the start, and a result outside the
// vocabulary counts as "other": what a network answers never becomes a
// label.
func TestRequestLabelsStayInTheirVocabulary(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(Deps{}, Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	s.sessions.metrics.request("ok", 3*time.Second)
	s.sessions.metrics.request("Баланс 100 руб", time.Second)

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`gsmbridge_ussd_requests_total{result="ok"} 1`,
		`gsmbridge_ussd_requests_total{result="other"} 1`,
		`gsmbridge_ussd_requests_total{result="timeout"} 0`,
		`gsmbridge_ussd_request_duration_seconds_sum 4`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "Баланс") {
		t.Error("/metrics shows the network's text")
	}
}
