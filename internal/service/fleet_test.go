package service

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// startFleetHost runs a daemon on its own simulated modems, joined to the
// fleet on servers as host.
func startFleetHost(t *testing.T, servers []string, host string) *harness {
	t.Helper()
	return startHarnessWith(t, func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = servers, host, 1
		c.Fleet.PublishTimeout = time.Second
		// The operators' built-in send limits would hold most of the
		// messages for minutes: no lane, no pull.
		unlimited := config.Limits{PerMinute: -1, PerHour: -1, PerDay: -1}
		c.Operators = []config.Operator{{PLMN: []string{"25001"}, Limits: unlimited}, {PLMN: []string{"25002"}, Limits: unlimited}}
	}, modemsim.Huawei, modemsim.Quectel)
}

// Messages posted to either host of a two-host fleet are each sent once,
// by one host, whichever took them: the two simulated networks' own
// records of what reached the customer hold every text exactly once.
func TestAFleetOfTwoSendsEachMessageOnce(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a, b := startFleetHost(t, nats.URLs(), "a"), startFleetHost(t, nats.URLs(), "b")
	a.waitReady(2)
	b.waitReady(2)
	customer := "+79161234567"
	a.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	b.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	var want, ids []string
	for i := range 20 {
		h := []*harness{a, b}[i%2]
		text := fmt.Sprintf("Платёж %d", i)
		var acc struct{ ID, State string }
		if code := h.do("POST", "/v1/messages", map[string]any{"to": customer, "text": text}, &acc); code != 202 || acc.State != "queued" {
			t.Fatalf("POST to host %d: %d %+v", i%2, code, acc)
		}
		want = append(want, text)
		ids = append(ids, acc.ID)
	}
	received := func() []string {
		var got []string
		for _, h := range []*harness{a, b} {
			for _, m := range h.net.Phones().Inbox(customer) {
				got = append(got, m.Text)
			}
		}
		slices.Sort(got)
		return got
	}
	eventually(t, "twenty messages received", func() bool { return len(received()) >= len(want) })
	slices.Sort(want)
	if got := received(); !slices.Equal(got, want) {
		t.Fatalf("the customer got %d texts:\n%q\nwant each of %d once", len(got), got, len(want))
	}
	// Either host answers for every message, whichever host sent it.
	// The network has each SMS a moment before its host records it sent.
	for i, id := range ids {
		for _, h := range []*harness{a, b} {
			var m struct{ ID, State, Text string }
			var code int
			eventually(t, "GET "+id+" answers sent", func() bool {
				code = h.do("GET", "/v1/messages/"+id, nil, &m)
				return code == 200 && m.State == "sent"
			})
			if m.ID != id || m.Text != fmt.Sprintf("Платёж %d", i) {
				t.Fatalf("GET %s: %d %+v", id, code, m)
			}
		}
	}
	if code := a.do("GET", "/v1/messages/msg_nosuch", nil, nil); code != 404 {
		t.Fatalf("GET of an id no host knows: %d", code)
	}
	var hosts struct {
		Hosts []struct {
			Host  string
			Alive bool
			State struct{ Modems []any }
		}
	}
	if code := b.do("GET", "/v1/hosts", nil, &hosts); code != 200 || len(hosts.Hosts) != 2 || !hosts.Hosts[0].Alive || hosts.Hosts[1].Host != "b" || len(hosts.Hosts[1].State.Modems) != 2 {
		t.Fatalf("GET /v1/hosts: %d %+v", code, hosts)
	}
	var e struct{ Error struct{ Code string } }
	if code := b.do("POST", "/v1/hosts/a/release", map[string]any{}, &e); code != 409 || e.Error.Code != "host_alive" {
		t.Fatalf("release of a live host: %d %+v", code, e)
	}
	// Each host's events reach the fleet's stream as the API shows them.
	js, done := dialFleet(t, nats.URLs()[0])
	defer done()
	stream, err := js.Stream(t.Context(), "GSMBRIDGE_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	// Either host may have sent every message (whichever had a free lane
	// took the work), so the sent event is looked for under both subjects.
	eventually(t, "a message.sent in the fleet stream", func() bool {
		m, err := stream.GetLastMsgForSubject(t.Context(), "gsmbridge.events.*.message.sent")
		if err != nil {
			return false
		}
		var e struct {
			Type   string
			Object struct{ Kind, ID string }
		}
		return json.Unmarshal(m.Data, &e) == nil && e.Type == "message.sent" && e.Object.Kind == "message" && m.Header.Get("Nats-Msg-Id") != ""
	})
	// Finished work leaves the claims: neither host holds anything in flight.
	eventually(t, "claims finished", func() bool {
		views, err := a.d.fleet.Conn.Survey(t.Context(), a.d.fleet.Claims)
		if err != nil {
			return false
		}
		for _, v := range views {
			if v.Taken+v.Sending > 0 {
				return false
			}
		}
		return len(views) == 2
	})
}

// With the cluster gone, new work is refused with the cause, never
// accepted: it would not be durable anywhere but here.
func TestAFleetHostRefusesWorkWhileTheClusterIsDown(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startFleetHost(t, nats.URLs(), "a")
	a.waitReady(2)
	// In the fleet, the host says so to a load balancer; out of it, past
	// a heartbeat's TTL, the same check fails (fleet.TestANodeIsReady...).
	eventually(t, "/readyz says the host is in the fleet", func() bool {
		var rd api.Readiness
		a.do("GET", "/readyz", nil, &rd)
		return slices.Contains(rd.Checks, api.Check{Name: "fleet", Status: api.ReadyOK, Message: "in the fleet, and its cluster answers"})
	})
	nats.Kill(0)
	var e struct {
		Error struct{ Code, Message string }
	}
	if code := a.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "Платёж 1"}, &e); code != 503 || e.Error.Code != "fleet_unavailable" {
		t.Fatalf("POST with the cluster down: %d %+v", code, e)
	}
	var list struct{ Messages []any }
	if a.do("GET", "/v1/messages", nil, &list); len(list.Messages) != 0 {
		t.Fatalf("%d messages stored while the cluster was down", len(list.Messages))
	}
}

// Work no host could take yet (no modem anywhere) is queued on every host.
func TestWorkNoHostTookIsQueuedOnEveryHost(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startHarnessWith(t, func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
	})
	var acc struct{ ID string }
	if code := a.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "Платёж 9"}, &acc); code != 202 {
		t.Fatalf("POST: %d", code)
	}
	var m struct {
		ID, State, Text string
		PartList        []struct{ State string } `json:"part_list"`
	}
	if code := a.do("GET", "/v1/messages/"+acc.ID, nil, &m); code != 200 || m.State != "queued" || m.Text != "Платёж 9" || len(m.PartList) != 1 {
		t.Fatalf("GET: %d %+v", code, m)
	}
}

func TestAHostAloneHasNoFleetToList(t *testing.T) {
	h := startHarnessWith(t, nil)
	var e struct{ Error struct{ Code string } }
	for _, path := range []string{"/v1/hosts", "/v1/modems?fleet=true", "/v1/sims?fleet=true"} {
		if code := h.do("GET", path, nil, &e); code != 404 || e.Error.Code != "not_in_fleet" {
			t.Fatalf("GET %s alone: %d %+v", path, code, e)
		}
	}
	if code := h.do("GET", "/v1/modems?fleet=maybe", nil, &e); code != 400 || e.Error.Code != "invalid_field" {
		t.Fatalf("GET /v1/modems?fleet=maybe: %d %+v", code, e)
	}
	var list struct{ Modems []any }
	if code := h.do("GET", "/v1/modems?fleet=false", nil, &list); code != 200 || list.Modems == nil {
		t.Fatalf("GET /v1/modems?fleet=false: %d %+v", code, list)
	}
}
