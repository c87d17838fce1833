package confirm

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The reply latency lands in the injected registry, in its bucket.
func TestReplyLatencyIsObservedOnTheRegisterer(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(nil, nil, nil, nil, Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	s.metrics.reply(42 * time.Second)

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`gsmbridge_confirmation_reply_seconds_bucket{le="60"} 1`,
		`gsmbridge_confirmation_reply_seconds_bucket{le="30"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
