package service

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/health"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/internal/testtool"
	"github.com/gsmbridge/gsmbridge/sms"
)

// These tests load the status page in Debian's headless Chromium and check
// what a person in front of the screen would see.

// chromium finds the browser (see testtool for what happens without it).
func chromium(t *testing.T) string {
	t.Helper()
	return testtool.Path(t, "chromium", "apt-get install chromium", "the status page is in a browser")
}

// runChromium loads url headless with virtual time, so the page's polls and
// timers run through budget without the test waiting for them in real
// time, and returns what Chromium printed.
func runChromium(t *testing.T, browser, url string, budget time.Duration, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=" + strconv.FormatInt(budget.Milliseconds(), 10)}, extra...)
	args = append(args, url)
	cmd := exec.CommandContext(ctx, browser, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	return string(out)
}

// screenshot saves the page as an artifact a reviewer can open.
func screenshot(t *testing.T, browser, url, name string) {
	t.Helper()
	dir := os.Getenv("GSMBRIDGE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, name)
	os.Remove(file)
	runChromium(t, browser, url, 5*time.Second, "--screenshot="+file, "--window-size=1400,900")
	if info, err := os.Stat(file); err != nil || info.Size() == 0 {
		t.Fatalf("chromium wrote no screenshot at %s: %v", file, err)
	}
	t.Logf("screenshot: %s", file)
}

var (
	tagPattern   = regexp.MustCompile(`<[^>]*>`)
	spacePattern = regexp.MustCompile(`\s+`)
)

// visibleText is the text of a piece of markup as it reads on screen.
func visibleText(markup string) string {
	return strings.TrimSpace(spacePattern.ReplaceAllString(html.UnescapeString(tagPattern.ReplaceAllString(markup, " ")), " "))
}

// rows returns the visible text of each table row of the given class.
func rows(dom, class string) []string {
	re := regexp.MustCompile(`(?s)<tr class="` + class + `"[^>]*>(.*?)</tr>`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(dom, -1) {
		out = append(out, visibleText(m[1]))
	}
	return out
}

// elementText returns the visible text of the element with that id.
func elementText(dom, id string) string {
	re := regexp.MustCompile(`(?s)<(\w+)[^>]*\bid="` + id + `"[^>]*>(.*?)</(\w+)>`)
	m := re.FindStringSubmatch(dom)
	if m == nil {
		return ""
	}
	return visibleText(m[2])
}

func TestStatusPageInChromium(t *testing.T) {
	browser := chromium(t)
	r := startStatusRack(t)
	dom := runChromium(t, browser, r.url+"/", 5*time.Second, "--dump-dom")

	if leaked := r.leaks(dom); len(leaked) > 0 {
		t.Fatalf("the page shows %q in full", leaked)
	}
	if b := elementText(dom, "banner"); b != "" {
		t.Fatalf("banner on a healthy daemon: %q", b)
	}
	if got := elementText(dom, "modems-ready"); got != "4 / 4" {
		t.Errorf("modems ready tile %q, want 4 / 4", got)
	}
	if got := elementText(dom, "sent-day"); got != "3" {
		t.Errorf("sent 24 h tile %q, want 3", got)
	}
	if got := elementText(dom, "confirmations-pending"); got != "1" {
		t.Errorf("payments tile %q, want 1", got)
	}

	modems := rows(dom, "modem")
	if len(modems) != 4 {
		t.Fatalf("%d modem rows, want 4:\n%s", len(modems), dom)
	}
	for i, op := range []string{"MTS", "MegaFon", "Beeline", "Tele2"} {
		row := modems[i]
		for _, want := range []string{"ready", op, sms.MaskNumber(r.ownNumbers[i]), "dBm", "rack-"} {
			if !strings.Contains(row, want) {
				t.Errorf("modem row %d lacks %q: %s", i, want, row)
			}
		}
	}
	if !strings.Contains(modems[0], "151.25 ₽ low") {
		t.Errorf("the SIM under its threshold is not flagged low: %s", modems[0])
	}
	// Only the MegaFon SIM got the reply.
	for i, row := range modems {
		if got, want := strings.Contains(row, "never"), i != 1; got != want {
			t.Errorf("modem row %d shows \"never\" received: %v, want %v: %s", i, got, want, row)
		}
	}

	if sims := rows(dom, "sim"); len(sims) != 4 || !strings.Contains(sims[3], "-12.30 ₽") {
		t.Errorf("SIM rows: %q", sims)
	}
	messages := rows(dom, "message")
	if len(messages) != 3 {
		t.Fatalf("%d message rows, want 3", len(messages))
	}
	for _, m := range messages {
		if !strings.Contains(m, sms.MaskNumber(statusCustomer)) || !strings.Contains(m, "sent") && !strings.Contains(m, "delivered") {
			t.Errorf("message row %q, want the masked number and state sent (delivered: the confirmation asked for a report)", m)
		}
	}
	screenshot(t, browser, r.url+"/", "status.png")
}

// When the daemon stops answering, the page keeps the last data, greys it
// out and says so in a banner, rather than showing a stale rack as healthy.
func TestStatusPageSaysWhenTheDaemonIsUnreachable(t *testing.T) {
	browser := chromium(t)
	d := bareDaemon(t)
	now := time.Now().UTC()
	dbm := -71
	snap := health.StatusSnapshot{GeneratedAt: now, Host: "rack-7", QueueDepth: 3,
		Modems: []health.StatusModem{
			{ID: "861234567890123", Name: "rack-A", State: StateReady, Since: now.Add(-3 * time.Hour), Operator: Operator{PLMN: "25001", Name: "MTS"},
				SignalDBm: &dbm, SignalBars: 3, Registration: "home", MSISDN: "+7916****67", ICCID: "8970****23"},
			{ID: "port:ttyUSB6", Name: "rack-B", State: StateGone, Since: now.Add(-2 * time.Minute), LastError: "read /dev/ttyUSB6: input/output error"},
		},
		SIMs: []health.StatusSIM{{ICCID: "8970****23", MSISDN: "+7916****67", Operator: Operator{PLMN: "25001", Name: "MTS"},
			Modem: "861234567890123", Present: true, State: store.SIMSuspect, StateReason: "3 consecutive sends to different recipients failed",
			SentLastHour: 9, SentLastDay: 140, Limits: health.StatusLimits{PerMinute: 5, PerHour: 10, PerDay: 150},
			Balance: &health.StatusBalance{Amount: "12.00", Currency: "RUB", CheckedAt: now.Add(-time.Hour), Low: true, Threshold: "50.00"}}},
		RecentMessages: []health.StatusMessage{{ID: "msg_x", To: "+7916****67", State: "failed", Parts: 1, Modem: "861234567890123",
			CreatedAt: now.Add(-5 * time.Minute), UpdatedAt: now.Add(-4 * time.Minute), ErrorCode: "CMS 38", Error: "network out of order"}},
	}
	body, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	var polls atomic.Int32
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", d.Handler())
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		if polls.Add(1) == 1 {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
			return
		}
		// The daemon is gone: the connection drops without an answer.
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dom := runChromium(t, browser, srv.URL+"/", 8*time.Second, "--dump-dom")
	if polls.Load() < 2 {
		t.Fatalf("the page polled %d times in 8 s, want it to poll again after the first answer", polls.Load())
	}
	banner := elementText(dom, "banner")
	if !strings.Contains(banner, "unreachable") || !regexp.MustCompile(`figures below are from \d+ s ago`).MatchString(banner) {
		t.Fatalf("banner %q, want it to say the daemon is unreachable and the data is old", banner)
	}
	if !regexp.MustCompile(`<body class="[^"]*\bstale\b`).MatchString(dom) {
		t.Errorf("old data is not marked stale")
	}
	modems := rows(dom, "modem")
	if len(modems) != 2 || !strings.Contains(modems[1], "gone") || !strings.Contains(modems[1], "input/output error") {
		t.Errorf("the last data is not kept on screen: %q", modems)
	}
	sims := rows(dom, "sim")
	if len(sims) != 1 || !strings.Contains(sims[0], "suspect") || !strings.Contains(sims[0], "140 / 150") || !strings.Contains(sims[0], "12.00 ₽ low") {
		t.Errorf("SIM row %q", sims)
	}
	polls.Store(0)
	screenshot(t, browser, srv.URL+"/", "status-unreachable.png")
}
