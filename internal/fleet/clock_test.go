package fleet

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
)

// The clock is trusted while the server's stamps are not later than this
// host's clock by more than the tolerance; it warns once when it falls
// behind and says when it caught up.
func TestAClockBehindTheClustersIsNotTrusted(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var k clockCheck
	if k.trusted() {
		t.Fatal("trusted before any heartbeat")
	}
	now := time.Now()
	for _, step := range []struct {
		server  time.Duration // the server's stamp against this host's clock
		trusted bool
		logged  string
	}{
		{server: 30 * time.Millisecond, trusted: true},
		{server: -time.Hour, trusted: true}, // ahead: old work only looks older
		{server: 2 * time.Hour, trusted: false, logged: "runs behind"},
		{server: 3 * time.Hour, trusted: false},
		{server: clockTolerance / 2, trusted: true, logged: "agrees with the cluster's again"},
	} {
		logs.Reset()
		k.note(log, now.Add(step.server), now)
		if k.trusted() != step.trusted {
			t.Errorf("server stamp %v off: trusted %v, want %v", step.server, k.trusted(), step.trusted)
		}
		if got := logs.String(); step.logged == "" && got != "" || !strings.Contains(got, step.logged) {
			t.Errorf("server stamp %v off: logged %q, want %q", step.server, got, step.logged)
		}
	}
}

// Work is young, and claimed in one write, only by a trusted clock and by
// the older of its two stamps.
func TestYoungWorkCountsFromItsOlderStamp(t *testing.T) {
	cl := &Claims{c: &Conn{}}
	now := time.Now()
	old := now.Add(-youngWork - time.Minute)
	for _, tc := range []struct {
		name               string
		trusted            bool
		accepted, queuedAt time.Time
		young              bool
	}{
		{"fresh", true, now, now, true},
		{"fresh, no stream stamp", true, now, time.Time{}, true},
		{"untrusted clock", false, now, now, false},
		{"accepting host's clock ahead", true, now, old, false},
		{"released copy", true, old, now, false},
		{"stamped in the future", true, now.Add(time.Minute), time.Time{}, false},
	} {
		cl.c.clock.ok.Store(tc.trusted)
		if got := cl.young(Work{AcceptedAt: tc.accepted, queuedAt: tc.queuedAt}); got != tc.young {
			t.Errorf("%s: young %v, want %v", tc.name, got, tc.young)
		}
	}
}

// A host's heartbeat tells it its clock agrees with the cluster's.
func TestAHostThatJoinedTrustsItsClock(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := newHost(t, fleetConfig(nats.URLs(), 1), "a")
	if a.conn.clock.trusted() {
		t.Fatal("trusted before joining")
	}
	if _, err := a.conn.Join(t.Context(), "id-a", time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if !a.conn.clock.trusted() {
		t.Fatal("not trusted after joining on the same machine as the cluster")
	}
}
