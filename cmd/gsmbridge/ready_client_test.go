package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// A script asks `gsmbridge ready` and reads its exit code: 0 while the
// daemon takes and sends messages, 1 with the failing checks otherwise.
func TestReadyExitsByTheDaemonsReadiness(t *testing.T) {
	t.Run("a modem ready", func(t *testing.T) {
		h := startClientDaemon(t, "", modemsim.Huawei)
		code, out, errOut := h.cli("ready")
		if code != 0 || errOut != "" {
			t.Fatalf("exit %d, stderr %q, want 0 and nothing", code, errOut)
		}
		for _, want := range []string{"store", "a probe write committed", "sims", "1 of 1 modems ready"} {
			if !strings.Contains(out, want) {
				t.Errorf("the table lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("no modem", func(t *testing.T) {
		h := startClientDaemon(t, "")
		code, out, errOut := h.cli("ready")
		if code != 1 || !strings.Contains(errOut, "the daemon is not ready: sims: 0 of 0 modems ready") {
			t.Fatalf("exit %d, stderr %q; want 1 naming the failing check", code, errOut)
		}
		if !strings.Contains(out, "fail") {
			t.Errorf("the table does not show the failing check:\n%s", out)
		}
		// --json prints the answer, not ready as it is, and exits 1 too.
		code, out, _ = h.cli("ready", "--json")
		var rd api.Readiness
		if err := json.Unmarshal([]byte(out), &rd); code != 1 || err != nil || rd.Status != api.ReadyFail {
			t.Fatalf("--json: exit %d, %+v (%v) from %q", code, rd, err, out)
		}
	})
	t.Run("a host of a fleet", func(t *testing.T) {
		nats := fleettest.Start(t, 1)
		h := startClientDaemonWith(t, "", func(c *config.Config) { c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1 },
			modemsim.ModemConfig{Dialect: modemsim.Quectel})
		code, out, errOut := h.cli("ready")
		if code != 0 || !strings.Contains(out, "in the fleet, and its cluster answers") {
			t.Fatalf("exit %d, stderr %q:\n%s", code, errOut, out)
		}
	})
}

// Right after a start the modems need some seconds: --within asks again
// until the daemon says ready, and gives up with the last answer.
func TestReadyWithinAsksUntilReady(t *testing.T) {
	var asked, notReadyFor atomic.Int32
	notReadyFor.Store(2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if asked.Add(1) <= notReadyFor.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"fail","checks":[{"name":"sims","status":"fail","message":"0 of 1 modems ready"}]}`))
			return
		}
		w.Write([]byte(`{"status":"ok","checks":[{"name":"sims","status":"ok","message":"1 of 1 modems ready"}]}`))
	}))
	defer srv.Close()
	t.Setenv("GSMBRIDGE_ADDR", "")
	t.Setenv("GSMBRIDGE_TOKEN", "")

	if code, _, errOut := runVerb(t.Context(), "ready", "--addr", srv.URL, "--within", "1m"); code != 0 || asked.Load() != 3 {
		t.Fatalf("--within 1m: exit %d after %d requests (%s), want 0 after 3", code, asked.Load(), errOut)
	}
	asked.Store(0)
	if code, _, errOut := runVerb(t.Context(), "ready", "--addr", srv.URL); code != 1 || asked.Load() != 1 || !strings.Contains(errOut, "sims: 0 of 1 modems ready") {
		t.Fatalf("once: exit %d after %d requests, stderr %q; want 1 after 1, naming the check", code, asked.Load(), errOut)
	}
	asked.Store(0)
	notReadyFor.Store(1 << 30)
	if code, _, errOut := runVerb(t.Context(), "ready", "--addr", srv.URL, "--within", "1500ms"); code != 1 || asked.Load() < 2 || !strings.Contains(errOut, "not ready") {
		t.Fatalf("--within 1500ms, never ready: exit %d after %d requests, stderr %q; want 1 after 2 or more", code, asked.Load(), errOut)
	}
	if code, _, errOut := runVerb(t.Context(), "ready", "--addr", srv.URL, "--within", "-1s"); code != 2 || !strings.Contains(errOut, "--within") {
		t.Fatalf("--within -1s: exit %d, stderr %q; want 2 naming the flag", code, errOut)
	}
}
