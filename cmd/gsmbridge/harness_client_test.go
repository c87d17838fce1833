package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gsmbridge/gsmbridge/internal/apitest"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/service"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// clientHarness is a real daemon serving on loopback over simulated modems,
// as `gsmbridge serve --modemsim` runs it, for the client verbs to talk to.
type clientHarness struct {
	t      *testing.T
	net    *modemsim.Network
	modems []*modemsim.Modem
	addr   string
	token  string
}

// startClientDaemon starts a daemon with one simulated modem per dialect; with a
// token, the API requires it. Goroutine leaks are checked after it stopped.
func startClientDaemon(t *testing.T, token string, dialects ...modemsim.Dialect) *clientHarness {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first, so it runs last
	var mcs []modemsim.ModemConfig
	for _, d := range dialects {
		mcs = append(mcs, modemsim.ModemConfig{Dialect: d})
	}
	return startClientDaemonWith(t, token, nil, mcs...)
}

// startClientDaemonWith starts a daemon on the given simulated modems, its
// configuration adjusted; the caller checks for leaks.
func startClientDaemonWith(t *testing.T, token string, adjust func(*config.Config), modems ...modemsim.ModemConfig) *clientHarness {
	t.Helper()
	// The verbs read these as defaults; the developer's own must not leak in.
	t.Setenv("GSMBRIDGE_ADDR", "")
	t.Setenv("GSMBRIDGE_TOKEN", "")
	n, err := modemsim.NewNetwork(modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond, ReportDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h := &clientHarness{t: t, net: n, token: token}
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = t.TempDir()
	if cfg.SIMs == nil {
		cfg.SIMs = map[string]config.SIM{}
	}
	if token != "" {
		cfg.Auth.Tokens = []config.Token{{Hash: config.HashToken(token)}}
	}
	for _, mc := range modems {
		m, err := n.AddModem(mc)
		if err != nil {
			n.Close()
			t.Fatal(err)
		}
		h.modems = append(h.modems, m)
		// The operators' default send limits would make the tests wait minutes.
		cfg.SIMs[m.Config().ICCID] = config.SIM{Limits: config.Limits{PerMinute: -1, PerHour: -1, PerDay: -1}}
		cfg.Modems = append(cfg.Modems, config.Modem{Port: m.Path(), Baud: 115200})
	}
	if adjust != nil {
		adjust(cfg)
	}
	d, err := service.New(cfg, service.Options{Observe: checkAnswers(t)})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	h.addr = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon Run: %v", err)
		}
		n.Close()
	})
	h.waitReady(len(modems))
	return h
}

// checkAnswers is service.Options.Wrap for tests: every answer the daemon
// gives while t runs is checked against the OpenAPI document it serves, and
// one that drifts from it fails t.
func checkAnswers(t *testing.T) func(http.Handler) http.Handler {
	t.Helper()
	c, err := answerChecker()
	if err != nil {
		t.Fatal(err)
	}
	return c.Middleware(t)
}

// answerChecker loads the document once for the whole test binary.
var answerChecker = sync.OnceValues(func() (*apitest.Checker, error) {
	doc, err := service.OpenAPI()
	if err != nil {
		return nil, err
	}
	return apitest.NewChecker(doc)
})

// waitReady waits until n modems are ready, asking the API directly so that
// the verbs under test are not part of the set-up.
func (h *clientHarness) waitReady(n int) {
	h.t.Helper()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	pollUntil(h.t, "modems ready", func() bool {
		req, _ := http.NewRequest("GET", h.addr+"/v1/modems", nil)
		if h.token != "" {
			req.Header.Set("Authorization", "Bearer "+h.token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var out struct{ Modems []struct{ State string } }
		if json.NewDecoder(resp.Body).Decode(&out) != nil {
			return false
		}
		ready := 0
		for _, m := range out.Modems {
			if m.State == "ready" {
				ready++
			}
		}
		return ready == n
	})
}

// cli runs the gsmbridge command line as main does, against this daemon.
func (h *clientHarness) cli(args ...string) (code int, stdout, stderr string) {
	return runVerb(context.Background(), append(args, "--addr", h.addr)...)
}

func runVerb(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// pollUntil polls cond until it holds or the deadline passes; it waits on
// the outcome itself, not on a guess of how long things take.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lockedBuffer is a bytes.Buffer a verb writes to while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// outputLines splits output into lines without the last empty one.
func outputLines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
