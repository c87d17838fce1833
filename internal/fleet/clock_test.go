package fleet

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
)

// A clock more than the tolerance behind the server's stamps is reported
// once when it falls behind, and again when it caught up; the lag is kept
// for the metric.
func TestAClockBehindTheClustersIsReported(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var k clockCheck
	now := time.Now()
	for _, step := range []struct {
		server time.Duration // the server's stamp against this host's clock
		logged string
	}{
		{server: 30 * time.Millisecond},
		{server: -time.Hour}, // ahead
		{server: 2 * time.Hour, logged: "runs behind"},
		{server: 3 * time.Hour},
		{server: clockTolerance / 2, logged: "agrees with the cluster's again"},
	} {
		logs.Reset()
		k.note(log, now.Add(step.server), now)
		if got := time.Duration(k.lag.Load()); got != step.server {
			t.Errorf("server stamp %v off: lag %v", step.server, got)
		}
		if got := logs.String(); step.logged == "" && got != "" || !strings.Contains(got, step.logged) {
			t.Errorf("server stamp %v off: logged %q, want %q", step.server, got, step.logged)
		}
	}
}

// A host's heartbeat measures its clock against the cluster's: on the
// same machine, the server's stamp comes before the answer does.
func TestAHeartbeatMeasuresTheHostsClock(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := newHost(t, fleetConfig(nats.URLs(), 1), "a")
	if _, err := a.conn.Join(t.Context(), "id-a", time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if lag := time.Duration(a.conn.clock.lag.Load()); lag >= 0 || lag < -time.Second {
		t.Fatalf("lag %v after joining on the same machine as the cluster, want a little ahead", lag)
	}
}
