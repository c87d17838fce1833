package service

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// The alert rules and the dashboard in ops/ are read here: a metric they
// query that a running daemon does not expose leaves an alert blind.
const (
	opsAlerts    = "../../ops/prometheus/alerts.yml"
	opsDashboard = "../../ops/grafana/gsmbridge.json"
)

var (
	grouping  = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promToken = regexp.MustCompile(`[0-9][0-9a-zA-Z_.]*|\$\{?[a-zA-Z0-9_]+\}?|[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promWords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"inf": true, "nan": true, "start": true, "end": true}
)

// promqlMetricNames lists the metric names a PromQL expression selects,
// sorted: not its functions, keywords, label names, label values, numbers,
// durations or Grafana variables.
func promqlMetricNames(expr string) []string {
	// Blank out what holds no metric name: strings, comments, label
	// matchers and range or subquery brackets.
	var b strings.Builder
	var quote rune
	depth := map[rune]int{}
	escaped, comment := false, false
	for _, r := range expr {
		switch {
		case comment:
			comment = r != '\n'
			r = ' '
		case quote != 0:
			switch {
			case escaped:
				escaped = false
			case r == '\\' && quote != '`':
				escaped = true
			case r == quote:
				quote = 0
			}
			r = ' '
		case r == '"' || r == '\'' || r == '`':
			quote, r = r, ' '
		case r == '#':
			comment, r = true, ' '
		case r == '{' || r == '[':
			depth[r]++
			r = ' '
		case r == '}':
			depth['{']--
			r = ' '
		case r == ']':
			depth['[']--
			r = ' '
		case depth['{'] > 0 || depth['['] > 0:
			r = ' '
		}
		b.WriteRune(r)
	}
	clean := grouping.ReplaceAllString(b.String(), " ")
	var names []string
	for _, loc := range promToken.FindAllStringIndex(clean, -1) {
		tok := clean[loc[0]:loc[1]]
		if tok[0] == '$' || (tok[0] >= '0' && tok[0] <= '9') || promWords[strings.ToLower(tok)] {
			continue
		}
		if rest := strings.TrimLeft(clean[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue // a function or an aggregation
		}
		if !slices.Contains(names, tok) {
			names = append(names, tok)
		}
	}
	slices.Sort(names)
	return names
}

func TestPromQLMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up{job="gsmbridge"} == 0`, []string{"up"}},
		{`sum by (job, instance) (gsmbridge_modem_state{state="ready"}) == 0`, []string{"gsmbridge_modem_state"}},
		{`increase(gsmbridge_modem_resets_total{step="alert"}[15m]) > 0`, []string{"gsmbridge_modem_resets_total"}},
		{`a{state="suspect"} == 1 and on (job, instance, modem) b{state!="gone"} == 1`, []string{"a", "b"}},
		{`used / capacity >= 0.9`, []string{"capacity", "used"}},
		{`time() - updated > 2 * 86400`, []string{"updated"}},
		{`free / size < 0.1 or predict_linear(free[6h], 24 * 3600) < 0`, []string{"free", "size"}},
		{`histogram_quantile(0.95, sum by (le) (rate(lat_bucket{instance=~"$instance"}[$__rate_interval])))`, []string{"lat_bucket"}},
		{`sum(rate(x_total[5m])) by (modem) * 60`, []string{"x_total"}},
		{`sum without (iccid) (y) unless on(iccid) group_left(operator) z`, []string{"y", "z"}},
		{`x offset 5m > bool 1e3`, []string{"x"}},
		{`label_replace(m, "dst", "$1", "src", "(other_metric)")`, []string{"m"}},
		{`absent(gsmbridge_build_info{job="x"}) or vector(1)`, []string{"gsmbridge_build_info"}},
		{"# a comment naming not_a_metric\nreal > Inf", []string{"real"}},
		{`max_over_time(s[1h:5m]) > NaN`, []string{"s"}},
		{`rate(c_total[5m]) > 0 and c_total offset 1h`, []string{"c_total"}},
		{`q{l="a\"b}"} > 1`, []string{"q"}},
	} {
		if got := promqlMetricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("promqlMetricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// opsQueries returns every PromQL expression of the alert rules and the
// dashboard, each with where it comes from.
func opsQueries(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	raw, err := os.ReadFile(opsAlerts)
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct{ Alert, Record, Expr string }
		}
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("%s: %v", opsAlerts, err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out["alert "+r.Alert+r.Record] = r.Expr
		}
	}
	raw, err = os.ReadFile(opsDashboard)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels     []dashPanel
		Templating struct {
			List []struct {
				Name       string
				Definition string
			}
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", opsDashboard, err)
	}
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			walk(p.Panels)
			for i, tg := range p.Targets {
				out["panel "+p.Title+" #"+string(rune('A'+i))] = tg.Expr
			}
		}
	}
	walk(dash.Panels)
	// Grafana's label_values(metric, label) selects metric.
	labelValues := regexp.MustCompile(`^label_values\((.*),\s*[a-zA-Z_]+\)$`)
	for _, v := range dash.Templating.List {
		if m := labelValues.FindStringSubmatch(v.Definition); m != nil {
			out["variable "+v.Name] = m[1]
		}
	}
	return out
}

type dashPanel struct {
	Title   string
	Panels  []dashPanel
	Targets []struct{ Expr string }
}

// mayBeAbsent are the metrics ops/ uses that a fresh daemon may lack, with
// why. Each is a gauge whose value is not known yet; a counter never
// belongs here, since a counter born at its first event hides that event
// from increase(). Every alert rule that uses one says in alerts.yml what
// its absence means.
var mayBeAbsent = map[string]string{
	"up":                        "Prometheus adds it for each scrape target",
	"gsmbridge_sim_balance_rub": "no balance read and understood yet",
	"gsmbridge_sim_balance_updated_timestamp_seconds": "no balance read and understood yet",
	"gsmbridge_sim_last_received_timestamp_seconds":   "the SIM has received nothing yet",
	"gsmbridge_modem_signal_dbm":                      "the modem reported no signal (CSQ 99) or was not asked yet",
	"gsmbridge_modem_sms_storage_used_messages":       "the modem did not report its SMS storage yet",
	"gsmbridge_modem_sms_storage_capacity_messages":   "the modem did not report its SMS storage yet",
	"gsmbridge_sim_send_limit_parts":                  "the SIM's operator and configuration set no send limit",
	"gsmbridge_modem_registration":                    "the modem has not reported its registration yet (probing)",
	"gsmbridge_fleet_connected":                       "the host works alone: no fleet section",
	"gsmbridge_fleet_stranded":                        "the host works alone, or no host of its fleet is dead",
	"gsmbridge_fleet_clock_behind_seconds":            "the host works alone: no fleet section",
	"gsmbridge_fleet_modems_sharing_id":               "the host works alone: no fleet section",
}

// Every alert rule that uses a metric of mayBeAbsent says, in a comment in
// the rule, what the metric's absence means for it.
func TestAlertsSayWhatAbsenceMeans(t *testing.T) {
	raw, err := os.ReadFile(opsAlerts)
	if err != nil {
		t.Fatal(err)
	}
	comments := map[string]string{} // by alert: the comment lines of its rule
	alert := ""
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(trimmed, "- alert:"); ok {
			alert = strings.TrimSpace(name)
		} else if strings.HasPrefix(trimmed, "#") && alert != "" {
			comments[alert] += trimmed + "\n"
		}
	}
	for where, expr := range opsQueries(t) {
		name, ok := strings.CutPrefix(where, "alert ")
		if !ok {
			continue
		}
		for _, metric := range promqlMetricNames(expr) {
			if mayBeAbsent[metric] == "" || metric == "up" {
				continue
			}
			c := comments[name]
			if !strings.Contains(c, metric) || !strings.Contains(c, "absent") {
				t.Errorf("%s uses %s, which may be absent (%s), and does not say in a comment what its absence means", name, metric, mayBeAbsent[metric])
			}
		}
	}
}

// A daemon that has just found its modems exposes every metric the alert
// rules and the dashboard query, before anything happened: a labelled
// counter must be there at 0 for each modem, SIM, step and webhook, or the
// first event would be its birth and no increase() would see it.
func TestFreshDaemonExposesEveryMetricOpsUses(t *testing.T) {
	h := startHarnessPrepared(t, modemsim.NetworkOptions{}, func(cfg *config.Config, _ *modemsim.Network, ms []*modemsim.Modem) {
		cfg.Webhooks = []config.Webhook{{URL: "http://127.0.0.1:9/hook", Secrets: []string{"0123456789abcdef0123"}, Timeout: time.Second}}
		cfg.SIMs = map[string]config.SIM{ms[0].Config().ICCID: {BalanceLow: "50"}}
	}, modemsim.Generic, modemsim.Huawei)
	h.waitReady(2)
	exposed := map[string]bool{}
	for _, s := range parseExposition(t, h.scrape()) {
		exposed[s.name] = true
	}
	used := map[string][]string{}
	for where, expr := range opsQueries(t) {
		for _, name := range promqlMetricNames(expr) {
			used[name] = append(used[name], where)
		}
	}
	if len(used) < 30 {
		t.Fatalf("only %d metric names found in ops/: the extractor or the files changed", len(used))
	}
	var missing []string
	for name, where := range used {
		if !exposed[name] && mayBeAbsent[name] == "" {
			slices.Sort(where)
			missing = append(missing, name+" (used by "+strings.Join(where, "; ")+")")
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("a fresh daemon does not expose %d metrics that ops/ uses:\n  %s", len(missing), strings.Join(missing, "\n  "))
	}
	for name := range mayBeAbsent {
		if used[name] == nil {
			t.Errorf("mayBeAbsent lists %s, which ops/ does not use", name)
		}
		if strings.HasSuffix(name, "_total") || strings.HasSuffix(name, "_bucket") || strings.HasSuffix(name, "_count") {
			t.Errorf("mayBeAbsent lists the counter %s: counters must exist at 0", name)
		}
	}
}
