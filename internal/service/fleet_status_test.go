package service

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/fleet"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
	"github.com/gsmbridge/gsmbridge/internal/health"
)

// deadHostWithWork makes host b of the fleet on servers a host that
// joined with two modems, took one message and died: its heartbeat is
// gone, its claim stays.
func deadHostWithWork(t *testing.T, servers []string) {
	t.Helper()
	cfg := config.Default().Fleet
	cfg.Servers, cfg.Replicas = servers, 1
	c, err := fleet.Dial(cfg, "b", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	state, _ := json.Marshal(api.HostState{
		Modems: []api.Modem{{ID: hostBModems[0].IMEI, State: api.ModemReady}, {ID: hostBModems[1].IMEI, State: api.ModemGone}},
		SIMs:   []api.SIM{{ICCID: hostBModems[0].ICCID, State: api.SIMActive}},
	})
	ctx := t.Context()
	if err := c.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Join(ctx, "id-b", time.Now(), state); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Claims("id-b").Take(ctx, fleet.Work{Kind: fleet.KindMessage, ID: "msg_stranded", Request: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	js, done := dialFleet(t, servers[0])
	defer done()
	hosts, err := js.KeyValue(ctx, "gsmbridge_hosts")
	if err != nil {
		t.Fatal(err)
	}
	// The heartbeat would expire after its TTL; a test does not wait for it.
	if err := hosts.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
}

// The status snapshot of a fleet host carries the fleet: every host,
// alive or down, its modems, and the work stranded on a dead one.
func TestTheStatusSnapshotShowsTheFleet(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startFleetHost(t, nats.URLs(), "a")
	a.waitReady(2)
	deadHostWithWork(t, nats.URLs())
	var snap health.StatusSnapshot
	if code := a.do("GET", "/v1/status", nil, &snap); code != 200 || snap.Fleet == nil {
		t.Fatalf("GET /v1/status: %d %+v", code, snap)
	}
	want := []health.StatusHost{
		{Host: "a", Alive: true, Modems: 2, ModemsReady: 2, SIMs: 2},
		{Host: "b", Modems: 2, ModemsReady: 1, SIMs: 1, Taken: 1, Stranded: 1},
	}
	f := snap.Fleet
	if f.Self != "a" || f.Error != "" || len(f.Hosts) != 2 {
		t.Fatalf("fleet: %+v", f)
	}
	for i := range want {
		got := f.Hosts[i]
		if got.LastBeat.IsZero() {
			t.Errorf("host %s: no last beat", got.Host)
		}
		got.LastBeat = time.Time{}
		if got != want[i] {
			t.Errorf("host %d: %+v, want %+v", i, got, want[i])
		}
	}

	// A host alone has no fleet section.
	alone := startHarnessWith(t, nil)
	var raw map[string]any
	if code := alone.do("GET", "/v1/status", nil, &raw); code != 200 || raw["fleet"] != nil {
		t.Fatalf("GET /v1/status alone: %d, fleet %v", code, raw["fleet"])
	}
}

// The page shows the fleet's hosts: which beat, their modems, and the
// work stranded on a dead one.
func TestStatusPageShowsTheFleetInChromium(t *testing.T) {
	browser := chromium(t)
	nats := fleettest.Start(t, 1)
	a := startFleetHost(t, nats.URLs(), "a")
	a.waitReady(2)
	deadHostWithWork(t, nats.URLs())
	dom := runChromium(t, browser, a.url+"/", 5*time.Second, "--dump-dom")
	if got := elementText(dom, "hosts-alive"); got != "1 / 2" {
		t.Errorf("hosts alive tile %q, want 1 / 2", got)
	}
	hosts := rows(dom, "host")
	if len(hosts) != 2 {
		t.Fatalf("%d host rows, want 2:\n%s", len(hosts), dom)
	}
	for i, want := range [][]string{
		{"alive", "a", "this host", "2 / 2"},
		{"down", "b", "1 / 2"},
	} {
		for _, w := range want {
			if !strings.Contains(hosts[i], w) {
				t.Errorf("host row %d lacks %q: %s", i, w, hosts[i])
			}
		}
	}
	// b's last beat, a relative time; 1 SIM, 1 taken, 0 sending, 1
	// stranded, 0 released.
	if !regexp.MustCompile(`^down b (just now|\d+ s ago) 1 / 2 1 1 0 1 0$`).MatchString(hosts[1]) {
		t.Errorf("host row b's SIMs and work: %s", hosts[1])
	}
	if strings.Contains(hosts[0], "this host") == strings.Contains(hosts[1], "this host") {
		t.Errorf("one row, a's, is this host: %q", hosts)
	}
	if modems := rows(dom, "modem"); len(modems) != 2 {
		t.Errorf("%d modem rows of this host, want 2", len(modems))
	}
	screenshot(t, browser, a.url+"/", "status-fleet.png")

	// A host alone shows no fleet.
	alone := startHarnessWith(t, nil)
	dom = runChromium(t, browser, alone.url+"/", 5*time.Second, "--dump-dom")
	if !strings.Contains(dom, `id="fleet" hidden`) || len(rows(dom, "host")) != 0 {
		t.Errorf("a host alone shows a fleet section")
	}
}
