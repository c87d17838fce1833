package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// listKeys are the fields that hold lists in what the verbs print; a list
// with nothing in it must print as [], which scripts can iterate, not null.
var listKeys = map[string]bool{"modems": true, "messages": true, "sims": true, "balances": true, "problems": true,
	"confirmations": true, "events": true, "phones": true, "hosts": true}

// checkJSONOutput holds out to what --json promises: one or more lines, each
// a JSON value, with no list printed as null.
func checkJSONOutput(t *testing.T, out string) {
	t.Helper()
	if strings.TrimSpace(out) == "" {
		t.Fatal("printed nothing")
	}
	for _, line := range outputLines(out) {
		var v any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("not a line of JSON: %q: %v", line, err)
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, e := range v {
					if e == nil && listKeys[k] {
						t.Errorf("%s.%s is null, want []: %s", path, k, line)
					}
					walk(path+"."+k, e)
				}
			case []any:
				for _, e := range v {
					walk(path+"[]", e)
				}
			}
		}
		walk("", v)
	}
}

// firstLine runs a verb that keeps running (serve, sim) until it printed a
// line, then stops it and returns that line.
func firstLine(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var stderr lockedBuffer
	go func() {
		done <- run(ctx, args, pw, &stderr)
		pw.Close()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		if sc.Scan() {
			lines <- sc.Text() + "\n"
		}
		close(lines)
		io.Copy(io.Discard, pr)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(30 * time.Second):
		t.Error("nothing printed")
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("%v exited %d: %s", args, code, stderr.String())
	}
	return line
}

func TestEveryVerbPrintsJSON(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first, so it runs after the network stops
	_, modems := startUSSDNetwork(t, ussdSimSpec{modemsim.Huawei, "25001"}, ussdSimSpec{modemsim.Quectel, "25099"})
	addr := startUSSDDaemon(t, modems[:1]) // modems[1] stays free for direct mode
	free := modems[1].Path()
	dir := t.TempDir()
	goodConfig := filepath.Join(dir, "good.yaml")
	badConfig := filepath.Join(dir, "bad.yaml")
	emptySys := filepath.Join(dir, "sys")
	for path, text := range map[string]string{goodConfig: "modems:\n  - port: /dev/ttyUSB0\n", badConfig: "log:\n  levle: info\n"} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(emptySys, "class", "tty"), 0o755); err != nil {
		t.Fatal(err)
	}
	client := func(args ...string) func(t *testing.T) string {
		return func(t *testing.T) string {
			code, out, errOut := runVerb(t.Context(), append(args, "--json", "--addr", addr)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			return out
		}
	}
	local := func(wantCode int, args ...string) func(t *testing.T) string {
		return func(t *testing.T) string {
			code, out, errOut := runVerb(t.Context(), append(args, "--json")...)
			if code != wantCode {
				t.Fatalf("exit %d, want %d: %s", code, wantCode, errOut)
			}
			return out
		}
	}
	ussd := func(args ...string) func(t *testing.T) string {
		return func(t *testing.T) string {
			var out strings.Builder
			if err := ussdCommand(t.Context(), append(args, "--json"), strings.NewReader(""), &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			return out.String()
		}
	}
	// hosts needs a daemon in a fleet: one of a fleet of one, on no modems.
	hostsOfAFleet := func(t *testing.T) string {
		nats := fleettest.Start(t, 1)
		h := startClientDaemonWith(t, "", func(c *config.Config) { c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1 })
		code, out, errOut := h.cli("hosts", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		return out
	}
	// Every verb of the dispatch table needs at least one case here.
	cases := map[string][]func(t *testing.T) string{
		"backup":        {client("backup", filepath.Join(dir, "copy.db"))},
		"balance":       {client("balance"), local(0, "balance", "--port", free)},
		"check-config":  {local(0, "check-config", goodConfig), local(1, "check-config", badConfig)},
		"confirm":       {client("confirm", "+79161110001", "--txn", "7", "--amount", "10.00")},
		"confirmations": {client("confirmations")},
		"events":        {client("events")},
		"hash-token":    {local(0, "hash-token", strings.Repeat("k", 32))},
		"hosts":         {hostsOfAFleet},
		"inbox":         {client("inbox")},
		"messages":      {client("messages"), client("messages", "--all")},
		"modems":        {client("modems")},
		"ready":         {client("ready")},
		"send":          {client("send", "+79161110001", "hi")},
		"sims":          {client("sims")},
		"scan":          {local(0, "scan", "--sys", emptySys, "--dev", dir)},
		"serve": {func(t *testing.T) string {
			return firstLine(t, "serve", "--modemsim", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--json")
		}, func(t *testing.T) string {
			return firstLine(t, "serve", "--sim", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--json")
		}},
		"modemsim": {func(t *testing.T) string { return firstLine(t, "modemsim", "--modems", "2", "--json") }},
		"sim":      {func(t *testing.T) string { return firstLine(t, "sim", "--modems", "2", "--json") }},
		"ussd":     {ussd("--addr", addr, "--modem", modems[0].Config().IMEI, "*100#"), ussd("--port", free, "*102#")},
		"version":  {local(0, "version")},
	}
	for _, name := range verbNames() {
		t.Run(name, func(t *testing.T) {
			switch name {
			case "bench":
				t.Skip("TestRunBenchTinyScenario decodes bench --json; a bench run takes seconds of its own")
			case "fleet-demo":
				t.Skip("TestFleetDemoServesOneMessageAcrossHosts decodes fleet-demo --json from the -tags fleetdemo binary; this one carries no NATS server")
			}
			runs, ok := cases[name]
			if !ok {
				t.Fatalf("no --json case for gsmbridge %s: add one here", name)
			}
			for _, r := range runs {
				checkJSONOutput(t, r(t))
			}
		})
	}
}
