// Package ops_test checks the operations files that ship beside the daemon:
// the Prometheus alert rules, their unit tests, the runbook they point into
// and the Grafana dashboard.
package ops_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gsmbridge/gsmbridge/internal/testtool"
)

const (
	alertsFile     = "prometheus/alerts.yml"
	alertTestsFile = "prometheus/alerts_test.yml"
	dashboardFile  = "grafana/gsmbridge.json"
	runbookFile    = "../docs/operations.md"
	runbookURL     = "https://github.com/gsmbridge/gsmbridge/blob/main/docs/operations.md#"
)

func TestPromtool(t *testing.T) {
	tool := testtool.Path(t, "promtool", "apt-get install prometheus", "the alert rules are")
	for _, args := range [][]string{
		{"check", "rules", alertsFile},
		{"test", "rules", alertTestsFile},
	} {
		out, err := exec.Command(tool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

type alertRule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadAlerts(t *testing.T) []alertRule {
	t.Helper()
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	var out []alertRule
	for _, g := range doc.Groups {
		out = append(out, g.Rules...)
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no alerts", alertsFile)
	}
	return out
}

// githubAnchor is the id GitHub gives a Markdown heading.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestEveryAlertHasARunbookSection(t *testing.T) {
	raw, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			anchors[githubAnchor(h)] = true
		}
	}
	for _, a := range loadAlerts(t) {
		url := a.Annotations["runbook_url"]
		anchor, ok := strings.CutPrefix(url, runbookURL)
		if !ok {
			t.Errorf("%s: runbook_url %q does not point into docs/operations.md", a.Alert, url)
			continue
		}
		if !anchors[anchor] {
			t.Errorf("%s: docs/operations.md has no section #%s", a.Alert, anchor)
		}
		if anchor != githubAnchor(a.Alert) {
			t.Errorf("%s: runbook section #%s is not named after the alert", a.Alert, anchor)
		}
		switch a.Labels["severity"] {
		case "critical", "warning", "info":
		default:
			t.Errorf("%s: severity %q, want critical, warning or info", a.Alert, a.Labels["severity"])
		}
		if a.Annotations["summary"] == "" {
			t.Errorf("%s: no summary", a.Alert)
		}
	}
}

// Each alert needs a case where it fires and one where it must not: a rule
// only ever tested firing could as well be "vector(1)".
func TestEveryAlertIsTestedBothWays(t *testing.T) {
	raw, err := os.ReadFile(alertTestsFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string           `yaml:"alertname"`
				ExpAlerts []map[string]any `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", alertTestsFile, err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range doc.Tests {
		for _, rt := range tc.AlertRuleTest {
			if len(rt.ExpAlerts) > 0 {
				fires[rt.Alertname] = true
			} else {
				quiet[rt.Alertname] = true
			}
		}
	}
	for _, a := range loadAlerts(t) {
		if !fires[a.Alert] {
			t.Errorf("%s: no test where it fires", a.Alert)
		}
		if !quiet[a.Alert] {
			t.Errorf("%s: no test where it stays quiet", a.Alert)
		}
	}
}

type panel struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr       string `json:"expr"`
		Datasource *struct {
			UID string `json:"uid"`
		} `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

func TestDashboardUsesTheDatasourceVariable(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name, Type string
				Query      any
			} `json:"list"`
		} `json:"templating"`
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	hasVar := false
	for _, v := range dash.Templating.List {
		if v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus" {
			hasVar = true
		}
	}
	if !hasVar {
		t.Fatal("the dashboard has no Prometheus datasource variable named datasource")
	}
	var titles []string
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			titles = append(titles, p.Title)
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q does not use the datasource variable", p.Title)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
					t.Errorf("a query of panel %q does not use the datasource variable", p.Title)
				}
				if !strings.Contains(tg.Expr, "gsmbridge_") {
					t.Errorf("panel %q queries %q, not a gsmbridge metric", p.Title, tg.Expr)
				}
			}
		}
	}
	walk(dash.Panels)
	for _, want := range []string{"Modems", "Signal", "Queue", "Send rate", "Send latency", "SMS by state", "Balances", "Webhooks", "Disk"} {
		found := false
		for _, title := range titles {
			found = found || strings.HasPrefix(title, want)
		}
		if !found {
			t.Errorf("the dashboard has no %q panel", want)
		}
	}
}
