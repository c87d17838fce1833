package events

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/scrape"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

func TestEndpointLabelDropsCredentials(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://hooks.example.com/gsm", "https://hooks.example.com/gsm"},
		{"https://user:pass@hooks.example.com/gsm?token=abc#frag", "https://hooks.example.com/gsm"},
		{"http://10.0.0.5:8080", "http://10.0.0.5:8080"},
		{"://bad", "invalid"},
	} {
		if got := endpointLabel(tc.url); got != tc.want {
			t.Errorf("endpointLabel(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

// Two endpoints that differ only in what the label leaves out (a tenant or
// a token in the query, the user) are two series: with one label value the
// registry drops the second endpoint's backlog from every scrape, and an
// alert on it never fires.
func TestEndpointsThatShareALabelAreScrapedApart(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for range 3 {
		if err := st.Events.AppendEvent(ctx, "message.sent", "test", "obj", 1, map[string]string{}); err != nil {
			t.Fatal(err)
		}
	}
	hooks := []config.Webhook{
		{URL: "https://hooks.example.com/gsm?tenant=a"},
		{URL: "https://hooks.example.com/gsm?tenant=b"},
		{URL: "https://other.example.com/gsm"},
	}
	// The first endpoint took everything; the second is 3 behind.
	if err := st.Deliveries.SaveWebhookCursor(ctx, store.WebhookCursor{Endpoint: hooks[0].URL, Cursor: 3}); err != nil {
		t.Fatal(err)
	}
	e, err := New(st.Events, st.Deliveries, Options{Webhooks: hooks})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(scrape.New(slog.New(slog.DiscardHandler), e.ScrapeWebhooks()))
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	backlog := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "gsmbridge_webhook_backlog_events" {
			continue
		}
		for _, m := range f.GetMetric() {
			backlog[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	if len(backlog) != len(hooks) {
		t.Fatalf("backlog series %v, want one per endpoint", backlog)
	}
	var behind []float64
	for ep, v := range backlog {
		if strings.Contains(ep, "tenant") || strings.Contains(ep, "?") {
			t.Errorf("label %q shows the query", ep)
		}
		behind = append(behind, v)
	}
	slices.Sort(behind)
	if fmt.Sprint(behind) != "[0 3 3]" {
		t.Fatalf("backlogs %v, want [0 3 3]", backlog)
	}
}
