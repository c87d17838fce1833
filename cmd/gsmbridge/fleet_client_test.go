package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// startClientFleetHost starts a daemon joined to the fleet on servers as
// host, on one simulated modem of its own.
func startClientFleetHost(t *testing.T, servers []string, host string, modem modemsim.ModemConfig) *clientHarness {
	t.Helper()
	return startClientDaemonWith(t, "", func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = servers, host, 1
		c.Fleet.PublishTimeout = time.Second
	}, modem)
}

// The listing verbs take --fleet and show every host's rows with their
// host; hosts lists the fleet; send --modem finds a modem of another host,
// which then sends the message. A daemon alone says it has no fleet.
func TestFleetVerbs(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first: runs after the NATS server stopped
	nats := fleettest.Start(t, 1)
	// Two simulated networks number their modems alike: b's has its own.
	bModem := modemsim.ModemConfig{Dialect: modemsim.Quectel, IMEI: "866815039990027", ICCID: "8970029999990000024", PLMN: "25002"}
	a := startClientFleetHost(t, nats.URLs(), "a", modemsim.ModemConfig{Dialect: modemsim.Huawei, PLMN: "25001"})
	b := startClientFleetHost(t, nats.URLs(), "b", bModem)
	aModem := a.modems[0].Config()

	pollUntil(t, "b's ready modem in a's fleet listing", func() bool {
		code, out, _ := a.cli("modems", "--fleet", "--json")
		var list api.ModemList
		if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
			return false
		}
		for _, m := range list.Modems {
			if m.Host == "b" && m.State == api.ModemReady {
				return true
			}
		}
		return false
	})
	code, out, errOut := a.cli("modems", "--fleet")
	if code != 0 || errOut != "" {
		t.Fatalf("modems --fleet: exit %d, %s", code, errOut)
	}
	head := outputLines(out)[0]
	if !strings.HasPrefix(head, "HOST  ") {
		t.Fatalf("modems --fleet header %q: HOST comes first", head)
	}
	hostOf := map[string]string{}
	for _, row := range outputLines(out)[1:] {
		hostOf[cellAt(t, head, row, "ID")] = cellAt(t, head, row, "HOST")
	}
	if len(hostOf) != 2 || hostOf[aModem.IMEI] != "a" || hostOf[bModem.IMEI] != "b" {
		t.Fatalf("modems --fleet: hosts by modem %v\n%s", hostOf, out)
	}
	if _, out, _ := a.cli("modems"); strings.Contains(outputLines(out)[0], "HOST") || len(outputLines(out)) != 2 {
		t.Fatalf("modems without --fleet:\n%s", out)
	}

	code, out, errOut = a.cli("sims", "--fleet")
	if code != 0 || errOut != "" {
		t.Fatalf("sims --fleet: exit %d, %s", code, errOut)
	}
	head = outputLines(out)[0]
	hostOf = map[string]string{}
	for _, row := range outputLines(out)[1:] {
		hostOf[cellAt(t, head, row, "ICCID")] = cellAt(t, head, row, "HOST")
	}
	if len(hostOf) != 2 || hostOf[aModem.ICCID] != "a" || hostOf[bModem.ICCID] != "b" {
		t.Fatalf("sims --fleet: hosts by SIM %v\n%s", hostOf, out)
	}

	// A host's row shows its last heartbeat, written every 5 s: the one
	// at its join may predate its modem's readiness.
	pollUntil(t, "both heartbeats count their ready modem", func() bool {
		code, out, _ := b.cli("hosts")
		return code == 0 && strings.Count(out, "1/1 ready") == 2
	})
	code, out, errOut = b.cli("hosts")
	if code != 0 || errOut != "" {
		t.Fatalf("hosts: exit %d, %s", code, errOut)
	}
	rows := checkColumns(t, out, []string{"HOST", "STATE", "LAST_BEAT", "STARTED", "MODEMS", "SIMS", "TAKEN", "SENDING", "RELEASED"}, 2)
	head = outputLines(out)[0]
	for i, host := range []string{"a", "b"} {
		if got := cellAt(t, head, rows[i], "HOST"); got != host {
			t.Errorf("row %d host %q, want %s", i, got, host)
		}
		if got := cellAt(t, head, rows[i], "STATE"); got != "alive" {
			t.Errorf("host %s %q", host, got)
		}
		if got := cellAt(t, head, rows[i], "MODEMS"); got != "1/1 ready" {
			t.Errorf("host %s modems %q", host, got)
		}
	}

	// send --modem on a names b's modem: a accepts it, b sends it.
	customer := "+79161234567"
	b.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	code, out, errOut = a.cli("send", customer, "Платёж через b", "--modem", bModem.IMEI, "--wait", "--json")
	var m api.Message
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil || m.State != api.MessageSent || m.Modem != bModem.IMEI {
		t.Fatalf("send --modem %s through a: exit %d, %s %s", bModem.IMEI, code, out, errOut)
	}
	if got := b.net.Phones().Inbox(customer); len(got) != 1 || got[0].Text != "Платёж через b" {
		t.Fatalf("b's network delivered %+v", got)
	}
	if got := a.net.Phones().Inbox(customer); len(got) != 0 {
		t.Fatalf("a's network delivered %+v", got)
	}
}

func TestFleetVerbsOnADaemonAlone(t *testing.T) {
	h := startClientDaemon(t, "")
	for _, args := range [][]string{{"modems", "--fleet"}, {"sims", "--fleet"}, {"hosts"}} {
		code, out, errOut := h.cli(args...)
		if code != 1 || out != "" || !strings.Contains(errOut, "this host works alone") || !strings.Contains(errOut, "not_in_fleet") {
			t.Errorf("%v alone: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}
