package scrape

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A failing part is a metric and a log line; the parts after it still
// answer, and parts joined under one name report as one.
func TestCollectorReportsEachPart(t *testing.T) {
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	at := time.Date(2026, 12, 5, 13, 0, 0, 500_000_000, time.UTC)
	ok := Part{Name: "ok", Defs: []Def{{Name: "thing", Help: "A thing.", Labels: []string{"kind"}}, {Name: "thing_seen_timestamp_seconds", Help: "When."}, {Name: "never_timestamp_seconds", Help: "Never."}},
		Collect: func(_ context.Context, e Emitter) error {
			e.Gauge("thing", Bool(true), "a")
			e.Gauge("thing", Bool(false), "b")
			e.Timestamp("thing_seen_timestamp_seconds", at)
			e.Timestamp("never_timestamp_seconds", time.Time{})
			return nil
		}}
	failing := Part{Name: "failing", Defs: []Def{{Name: "broken", Help: "Broken."}},
		Collect: func(context.Context, Emitter) error { return errors.New("database is locked") }}
	first := Part{Name: "first", Defs: []Def{{Name: "first_total", Help: "First."}},
		Collect: func(_ context.Context, e Emitter) error { e.Counter("first_total", 3); return nil }}
	second := Part{Name: "second", Defs: []Def{{Name: "second", Help: "Second."}},
		Collect: func(_ context.Context, e Emitter) error { e.Gauge("second", 7); return nil }}

	c := New(log, ok, failing, Join("joined", first, second))
	want := `
# HELP gsmbridge_first_total First.
# TYPE gsmbridge_first_total counter
gsmbridge_first_total 3
# HELP gsmbridge_scrape_collector_success 1 when the collector read its source, 0 when it failed (see the daemon's log).
# TYPE gsmbridge_scrape_collector_success gauge
gsmbridge_scrape_collector_success{collector="failing"} 0
gsmbridge_scrape_collector_success{collector="joined"} 1
gsmbridge_scrape_collector_success{collector="ok"} 1
# HELP gsmbridge_second Second.
# TYPE gsmbridge_second gauge
gsmbridge_second 7
# HELP gsmbridge_thing A thing.
# TYPE gsmbridge_thing gauge
gsmbridge_thing{kind="a"} 1
gsmbridge_thing{kind="b"} 0
# HELP gsmbridge_thing_seen_timestamp_seconds When.
# TYPE gsmbridge_thing_seen_timestamp_seconds gauge
gsmbridge_thing_seen_timestamp_seconds 1.7964756005e+09
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"gsmbridge_first_total", "gsmbridge_scrape_collector_success", "gsmbridge_second", "gsmbridge_thing",
		"gsmbridge_thing_seen_timestamp_seconds", "gsmbridge_never_timestamp_seconds", "gsmbridge_broken"); err != nil {
		t.Error(err)
	}
	if !strings.Contains(logged.String(), `collector=failing err="database is locked"`) {
		t.Errorf("log lacks the failing part:\n%s", logged.String())
	}
	if n := testutil.CollectAndCount(c, "gsmbridge_scrape_collector_duration_seconds"); n != 3 {
		t.Errorf("%d duration series, want one per part (3)", n)
	}
}

// Joined parts fail together, and the parts after the failing one are
// not read.
func TestJoinStopsAtTheFirstError(t *testing.T) {
	var ran []string
	part := func(name string, err error) Part {
		return Part{Name: name, Defs: []Def{{name, name, nil}}, Collect: func(context.Context, Emitter) error {
			ran = append(ran, name)
			return err
		}}
	}
	j := Join("states", part("a", nil), part("b", errors.New("closed")), part("c", nil))
	if len(j.Defs) != 3 || j.Name != "states" {
		t.Fatalf("joined part %q declares %d metrics, want states with 3", j.Name, len(j.Defs))
	}
	ch := make(chan prometheus.Metric, 10)
	if err := j.Collect(t.Context(), Emitter{ch: ch}); err == nil || strings.Join(ran, ",") != "a,b" {
		t.Fatalf("Collect = %v after running %v, want the error of b after a and b", err, ran)
	}
}
