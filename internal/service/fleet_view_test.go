package service

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/client"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/fleet"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// Host b's modems and SIMs: identities of their own, since two simulated
// networks number their modems alike. The Beeline SIM is b's alone.
var hostBModems = []modemsim.ModemConfig{
	{Dialect: modemsim.Huawei, IMEI: "352145049990010", ICCID: "8970019999990000018", PLMN: "25001"},
	{Dialect: modemsim.Quectel, IMEI: "866815039990027", ICCID: "8970029999990000024", PLMN: "25099"},
}

// startFleetHostModems is startFleetHost on the given simulated modems.
func startFleetHostModems(t *testing.T, servers []string, host string, modems ...modemsim.ModemConfig) *harness {
	t.Helper()
	return startHarnessModems(t, modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond, ReportDelay: 10 * time.Millisecond},
		func(c *config.Config, _ *modemsim.Network, _ []*modemsim.Modem) {
			c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = servers, host, 1
			c.Fleet.PublishTimeout = time.Second
			unlimited := config.Limits{PerMinute: -1, PerHour: -1, PerDay: -1}
			c.Operators = []config.Operator{{PLMN: []string{"25001"}, Limits: unlimited}, {PLMN: []string{"25002"}, Limits: unlimited},
				{PLMN: []string{"25099"}, Limits: unlimited}}
		}, modems...)
}

func newTestClient(t *testing.T, h *harness) *client.Client {
	t.Helper()
	c, err := client.New(h.url, client.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// modemsByHost is a fleet listing as host -> modem ids, with down hosts
// marked by a trailing "!".
func modemsByHost(ms []api.Modem) map[string][]string {
	out := map[string][]string{}
	for _, m := range ms {
		k := m.Host
		if m.HostDown {
			k += "!"
		}
		out[k] = append(out[k], m.ID)
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}

// Any host lists every host's modems and SIMs with their host; a host
// that stopped beating while it holds work stays in the listing as it
// last described itself, marked down.
func TestFleetListingsShowEveryHostsModemsAndSIMs(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startFleetHost(t, nats.URLs(), "a")
	b := startFleetHostModems(t, nats.URLs(), "b", hostBModems...)
	a.waitReady(2)
	b.waitReady(2)
	ca := newTestClient(t, a)
	var aIDs []string
	for _, m := range a.d.Modems() {
		aIDs = append(aIDs, m.ID)
	}
	slices.Sort(aIDs)
	bIDs := []string{hostBModems[0].IMEI, hostBModems[1].IMEI}
	// b's modems show from its first beat after they came up.
	eventually(t, "b's ready modems in a's fleet listing", func() bool {
		ms, err := ca.Modems.ListFleet(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, m := range ms {
			if m.Host == "b" && m.State == api.ModemReady {
				ready++
			}
		}
		return ready == 2
	})
	ms, _ := ca.Modems.ListFleet(t.Context())
	if got := modemsByHost(ms); len(got) != 2 || !slices.Equal(got["a"], aIDs) || !slices.Equal(got["b"], bIDs) {
		t.Fatalf("fleet modems by host: %v; want a: %v, b: %v", got, aIDs, bIDs)
	}
	// Without ?fleet=true the listing is this host's, as before.
	if local, err := ca.Modems.List(t.Context()); err != nil || len(local) != 2 || local[0].Host != "" {
		t.Fatalf("local listing: %+v, %v", local, err)
	}
	sims, err := ca.SIMs.ListFleet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	simHost := map[string]string{}
	for _, s := range sims {
		simHost[s.ICCID] = s.Host
	}
	if len(sims) != 4 || simHost[hostBModems[0].ICCID] != "b" || simHost[hostBModems[1].ICCID] != "b" || simHost[a.modems[0].Config().ICCID] != "a" {
		t.Fatalf("fleet SIMs: %+v", sims)
	}

	// b takes a message, then dies before finishing it: its claim strands
	// the message there, and the fleet keeps b in view.
	if _, err := b.d.fleet.Claims.Take(t.Context(), fleet.Work{Kind: fleet.KindMessage, ID: "msg_stranded", Request: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	b.stopDaemon()
	js, done := dialFleet(t, nats.URLs()[0])
	defer done()
	hosts, err := js.KeyValue(t.Context(), "gsmbridge_hosts")
	if err != nil {
		t.Fatal(err)
	}
	// The heartbeat would expire after its TTL; a test does not wait for it.
	if err := hosts.Delete(t.Context(), "b"); err != nil {
		t.Fatal(err)
	}
	ms, err = ca.Modems.ListFleet(t.Context())
	if got := modemsByHost(ms); err != nil || !slices.Equal(got["a"], aIDs) || !slices.Equal(got["b!"], bIDs) {
		t.Fatalf("fleet modems with b down: %v, %v", got, err)
	}
	hs, err := ca.Hosts.List(t.Context())
	if err != nil || len(hs) != 2 || hs[1].Host != "b" || hs[1].Alive || hs[1].Taken != 1 || hs[1].State == nil || len(hs[1].State.SIMs) != 2 || hs[1].LastBeat.IsZero() {
		t.Fatalf("hosts with b down: %+v, %v", hs, err)
	}
}

// A message posted to host a and pinned to host b's modem, or to an
// operator only b has a SIM of, is accepted by a and sent by b; a never
// takes it. A pin no host serves is refused as on a host alone.
func TestAPinToAnotherHostsModemIsSentByThatHost(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startFleetHost(t, nats.URLs(), "a")
	b := startFleetHostModems(t, nats.URLs(), "b", hostBModems...)
	a.waitReady(2)
	b.waitReady(2)
	customer := "+79161234567"
	for _, h := range []*harness{a, b} {
		h.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	}
	ca := newTestClient(t, a)
	eventually(t, "b's modems ready in a's fleet listing", func() bool {
		ms, err := ca.Modems.ListFleet(t.Context())
		return err == nil && len(ms) == 4 && !slices.ContainsFunc(ms, func(m api.Modem) bool { return m.State != api.ModemReady })
	})
	pinned := []api.NewMessage{
		{To: customer, Text: "Платёж через модем b", Modem: hostBModems[0].IMEI},
		{To: customer, Text: "Платёж через Билайн", Operator: "25099"},
	}
	ids := map[string]string{}
	for _, m := range pinned {
		got, err := ca.Messages.Send(t.Context(), m, "")
		if err != nil || got.State != api.MessageQueued {
			t.Fatalf("POST %+v to a: %+v, %v", m, got, err)
		}
		ids[got.ID] = m.Text
	}
	for _, tc := range []struct {
		m          api.NewMessage
		code, want string
	}{
		{api.NewMessage{To: customer, Text: "x", Modem: "352145049999993"}, "unknown_modem", "modem: no modem \"352145049999993\""},
		{api.NewMessage{To: customer, Text: "x", Operator: "25020"}, "no_sim_for_operator", "operator: no SIM of operator 25020 is known"},
	} {
		_, err := ca.Messages.Send(t.Context(), tc.m, "")
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 422 || e.Code != tc.code || e.Message != tc.want {
			t.Errorf("a pin no host serves (%+v): %v; want 422 %s", tc.m, err, tc.code)
		}
	}
	texts := func(h *harness) []string {
		var got []string
		for _, m := range h.net.Phones().Inbox(customer) {
			got = append(got, m.Text)
		}
		slices.Sort(got)
		return got
	}
	eventually(t, "b sent both", func() bool { return len(texts(b)) >= 2 })
	want := []string{pinned[1].Text, pinned[0].Text}
	slices.Sort(want)
	if got := texts(b); !slices.Equal(got, want) {
		t.Fatalf("b's network delivered %q; want %q", got, want)
	}
	if got := texts(a); len(got) != 0 {
		t.Fatalf("a's modems sent %q", got)
	}
	if local, err := newTestClient(t, a).Messages.List(t.Context(), client.Page{}); err != nil || len(local.Messages) != 0 {
		t.Fatalf("a stored %d messages (%v); b holds them", len(local.Messages), err)
	}
	for id, text := range ids {
		// The network has the SMS a moment before b records it sent.
		var m api.Message
		var err error
		eventually(t, "GET "+id+" on a answers sent", func() bool {
			m, err = ca.Messages.Get(t.Context(), id)
			return err == nil && m.State == api.MessageSent
		})
		if m.Text != text {
			t.Fatalf("GET %s on a: %+v, %v", id, m, err)
		}
		if m.PinnedModem != "" && m.Modem != hostBModems[0].IMEI || m.PinnedOperator != "" && m.Modem != hostBModems[1].IMEI {
			t.Errorf("%s went through %s", id, m.Modem)
		}
	}
}

// A POST the cluster may have stored all the same is told apart from one
// it refused: the client must not send it again under a new id.
func TestARefusedPostSaysWhetherTheClusterMayHaveIt(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
	}{
		{fmt.Errorf("%w: publishing msg_1: no servers", fleet.ErrUnavailable), "fleet_unavailable"},
		{fmt.Errorf("%w: %w: publishing msg_1: timeout", fleet.ErrUnavailable, fleet.ErrUnconfirmed), "fleet_unconfirmed"},
	} {
		e := fleetRefused(tc.err)
		if e.Status != http.StatusServiceUnavailable || e.Code != tc.code || !strings.Contains(e.Message, "msg_1") {
			t.Errorf("%v: %+v, want 503 %s naming msg_1", tc.err, e, tc.code)
		}
	}
}
