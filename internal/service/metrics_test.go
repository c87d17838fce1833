package service

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/fleet"
	"github.com/gsmbridge/gsmbridge/internal/modem"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/internal/testtool"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// scrape fetches /metrics from a running daemon.
func (h *harness) scrape() string {
	h.t.Helper()
	resp, err := http.Get(h.url + "/metrics")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET /metrics: %d\n%s", resp.StatusCode, body)
	}
	return string(body)
}

// series is one sample line of the text format.
type series struct {
	name   string
	labels map[string]string
	value  string
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

func parseExposition(t *testing.T, text string) []series {
	t.Helper()
	var out []series
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not a sample line: %q", line)
		}
		s := series{name: m[1], labels: map[string]string{}, value: m[3]}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	return out
}

func find(all []series, name string, labels map[string]string) (series, bool) {
	for _, s := range all {
		if s.name != name {
			continue
		}
		match := true
		for k, v := range labels {
			if s.labels[k] != v {
				match = false
			}
		}
		if match {
			return s, true
		}
	}
	return series{}, false
}

// The daemon's real /metrics, over simulated modems after real traffic,
// passes promtool's checks, holds every metric the alerts and the dashboard
// use, and no label shows a phone number or a message text.
func TestMetricsExpositionOfARunningDaemon(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer hook.Close()
	h := startHarnessWith(t, func(cfg *config.Config) {
		cfg.Webhooks = []config.Webhook{{URL: hook.URL + "/hook?token=s3cr3t", Secrets: []string{"0123456789abcdef0123"}, Timeout: time.Second}}
	}, modemsim.Generic, modemsim.Huawei)
	h.waitReady(2)
	customer := "+79161234567"
	h.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	text := "Код подтверждения 4821"
	var acc struct{ ID string }
	if code := h.do("POST", "/v1/messages", map[string]any{"to": customer, "text": text}, &acc); code != http.StatusAccepted {
		t.Fatalf("POST /v1/messages: %d", code)
	}
	eventually(t, "message sent", func() bool {
		var m api.Message
		h.do("GET", "/v1/messages/"+acc.ID, nil, &m)
		return m.State == store.Sent
	})

	body := h.scrape()
	all := parseExposition(t, body)

	t.Run("promtool check metrics", func(t *testing.T) {
		cmd := exec.Command(testtool.Path(t, "promtool", "apt-get install prometheus", "the exposition is"), "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("promtool check metrics: %v\n%s", err, out)
		}
	})

	t.Run("expected names", func(t *testing.T) {
		want := []string{
			"gsmbridge_build_info", "gsmbridge_modem_info", "gsmbridge_modem_state", "gsmbridge_modem_state_since_timestamp_seconds",
			"gsmbridge_modem_signal_dbm", "gsmbridge_modem_signal_bars",
			"gsmbridge_modem_sent_parts_total", "gsmbridge_modem_send_failures_total", "gsmbridge_modem_received_messages_total",
			"gsmbridge_queue_messages", "gsmbridge_sim_state", "gsmbridge_sim_receive_stalled", "gsmbridge_sim_consecutive_send_failures",
			"gsmbridge_sim_last_sent_timestamp_seconds", "gsmbridge_sim_sent_parts_last_day", "gsmbridge_sim_send_limit_parts",
			"gsmbridge_sim_balance_low", "gsmbridge_sim_balance_parse_failures_total", "gsmbridge_sim_balance_check_failures_total",
			"gsmbridge_messages", "gsmbridge_confirmations",
			"gsmbridge_webhook_backlog_events", "gsmbridge_webhook_dead_letters", "gsmbridge_webhook_head_attempts",
			"gsmbridge_webhook_deliveries_total", "gsmbridge_ussd_requests_total",
			"gsmbridge_database_size_bytes", "gsmbridge_data_dir_free_bytes", "gsmbridge_data_dir_size_bytes",
			"gsmbridge_store_commits_total", "gsmbridge_store_last_commit_timestamp_seconds",
			"gsmbridge_at_commands_total", "gsmbridge_at_command_duration_seconds_bucket", "gsmbridge_send_latency_seconds_count",
			"gsmbridge_modem_resets_total", "gsmbridge_modem_reconnects_total",
			"gsmbridge_scrape_collector_success", "gsmbridge_process_open_fds", "go_goroutines",
		}
		for _, name := range want {
			if _, ok := find(all, name, nil); !ok {
				t.Errorf("%s is missing from /metrics", name)
			}
		}
	})

	t.Run("values follow the daemon", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			labels map[string]string
			want   string
		}{
			{"gsmbridge_modem_state", map[string]string{"modem": h.d.Modems()[0].ID, "state": "ready"}, "1"},
			{"gsmbridge_modem_state", map[string]string{"modem": h.d.Modems()[0].ID, "state": "gone"}, "0"},
			{"gsmbridge_messages", map[string]string{"state": "sent"}, "1"},
			{"gsmbridge_messages", map[string]string{"state": "unknown"}, "0"},
			{"gsmbridge_queue_messages", nil, "0"},
			{"gsmbridge_webhook_dead_letters", map[string]string{"endpoint": hook.URL + "/hook"}, "0"},
			{"gsmbridge_modem_resets_total", map[string]string{"modem": h.d.Modems()[0].ID, "step": "alert"}, "0"},
			{"gsmbridge_modem_reconnects_total", map[string]string{"modem": h.d.Modems()[1].ID}, "0"},
			{"gsmbridge_send_latency_seconds_count", nil, "1"},
			{"gsmbridge_at_commands_total", map[string]string{"command": "CMGS", "result": "ok"}, "1"},
		} {
			got, ok := find(all, tc.name, tc.labels)
			if !ok || got.value != tc.want {
				t.Errorf("%s%v = %q (found %v), want %s", tc.name, tc.labels, got.value, ok, tc.want)
			}
		}
		for _, c := range []string{"build", "modems", "sims", "balances", "states", "webhooks", "storage"} {
			if got, _ := find(all, "gsmbridge_scrape_collector_success", map[string]string{"collector": c}); got.value != "1" {
				t.Errorf("collector %s success = %q, want 1", c, got.value)
			}
		}
	})

	t.Run("no phone number or text in a label", func(t *testing.T) {
		numbers := []string{customer, strings.TrimPrefix(customer, "+")}
		for _, m := range h.modems {
			if n := m.Config().MSISDN; n != "" {
				numbers = append(numbers, n, strings.TrimPrefix(n, "+"))
			}
		}
		phoneLike := regexp.MustCompile(`^\+?[78]?\d{10}$`)
		for _, s := range all {
			for k, v := range s.labels {
				if phoneLike.MatchString(v) {
					t.Errorf("%s label %s=%q looks like a phone number", s.name, k, v)
				}
				for _, n := range numbers {
					if n != "" && strings.Contains(v, n) {
						t.Errorf("%s label %s=%q holds the phone number %s", s.name, k, v, n)
					}
				}
				if strings.Contains(v, "4821") || strings.Contains(v, "s3cr3t") {
					t.Errorf("%s label %s=%q holds message text or a webhook secret", s.name, k, v)
				}
			}
		}
	})
}

// A source that cannot be read turns its collector's success to 0 and the
// scrape still answers with everything else.
func TestFailingCollectorIsAMetricNotAFailedScrape(t *testing.T) {
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = t.TempDir()
	d, err := New(cfg, Options{Observe: checkAnswers(t)})
	if err != nil {
		t.Fatal(err)
	}
	d.store.Close()

	rec := httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1:8780/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics with a closed store: %d, want 200\n%s", rec.Code, rec.Body)
	}
	all := parseExposition(t, rec.Body.String())
	for collector, want := range map[string]string{"build": "1", "modems": "1", "sims": "0", "balances": "0", "webhooks": "1", "storage": "1"} {
		if got, _ := find(all, "gsmbridge_scrape_collector_success", map[string]string{"collector": collector}); got.value != want {
			t.Errorf("collector %s success = %q, want %s", collector, got.value, want)
		}
	}
	if _, ok := find(all, "gsmbridge_queue_messages", nil); !ok {
		t.Error("the modems collector's metrics are missing although it worked")
	}
}

// Values fed by other features never grow the label sets: unknown results
// and steps are counted as "other".
func TestEventLabelsStayInTheirVocabulary(t *testing.T) {
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = t.TempDir()
	d, err := New(cfg, Options{Observe: checkAnswers(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.store.Close()

	rec := httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1:8780/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`gsmbridge_ussd_requests_total{result="timeout"} 0`,
		`gsmbridge_webhook_deliveries_total{result="dead_letter"} 0`,
		`gsmbridge_confirmation_reply_seconds_bucket{le="60"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, banned := range []string{"Баланс"} {
		if strings.Contains(body, banned) {
			t.Errorf("/metrics shows %q", banned)
		}
	}
}

// A scrape reads snapshots: it answers while the modem's owner is busy with
// other work, so it can never be waiting on (or sending) an AT command.
func TestScrapeAnswersWhileTheModemIsBusy(t *testing.T) {
	h := startHarness(t, modemsim.Generic)
	h.waitReady(1)
	modemID := h.d.Modems()[0].ID
	release := make(chan struct{})
	held := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- h.d.modems.Do(context.Background(), modemID, func(ctx context.Context, _ *gsm.Modem) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	defer func() {
		close(release)
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	for _, path := range []string{"/metrics", "/readyz"} {
		resp, err := client.Get(h.url + path)
		if err != nil {
			t.Fatalf("GET %s while the owner is busy: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(body, []byte(modemID)) {
			t.Errorf("GET %s while the owner is busy does not show modem %s:\n%s", path, modemID, body)
		}
	}
	client.CloseIdleConnections()
}

// Every gsmbridge_ metric the alert rules and the dashboard query is one the
// daemon declares: a renamed metric must not leave an alert silently blind.
func TestAlertsAndDashboardQueryDeclaredMetrics(t *testing.T) {
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = t.TempDir()
	d, err := New(cfg, Options{Observe: checkAnswers(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.store.Close()
	declared := map[string]bool{}
	families, err := d.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		declared[f.GetName()] = true
	}
	// Snapshot metrics appear only when there is something to show, so
	// their descriptors are the declaration.
	descs := make(chan *prometheus.Desc, 100)
	newSnapshotCollector(d).Describe(descs)
	fleet.Describe(descs) // a host in a fleet adds these
	modem.Describe(descs) // AT command series, once a command ran
	close(descs)
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for desc := range descs {
		if m := fqName.FindStringSubmatch(desc.String()); m != nil {
			declared[m[1]] = true
		}
	}

	used := regexp.MustCompile(`gsmbridge_[a-z0-9_]+`)
	for _, f := range []string{"../../ops/prometheus/alerts.yml", "../../ops/grafana/gsmbridge.json"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range used.FindAllString(string(raw), -1) {
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(name, suffix); ok && declared[b] {
					base = b
				}
			}
			if !declared[base] {
				t.Errorf("%s queries %s, which the daemon does not declare", f, name)
			}
		}
	}
}
