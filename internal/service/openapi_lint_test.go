package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/testtool"
)

// redoclyVersion pins the linter, so that a release with new rules cannot
// fail a build whose document did not change.
const redoclyVersion = "2.77.0"

type lintProblem struct {
	RuleID   string `json:"ruleId"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Location []struct {
		Pointer string `json:"pointer"`
	} `json:"location"`
}

func (p lintProblem) String() string {
	where := ""
	if len(p.Location) > 0 {
		where = p.Location[0].Pointer
	}
	return p.Severity + " " + p.RuleID + " at " + where + ": " + p.Message
}

// redoclyLint lints each document with internal/service/openapi/redocly.yaml, in one
// run of the linter, and returns the problems reported for each.
func redoclyLint(t *testing.T, docs ...[]byte) [][]lintProblem {
	t.Helper()
	bin := testtool.Path(t, "npx", "apt-get install npm", "the API document's lint is")
	dir := t.TempDir()
	rules, err := os.ReadFile(filepath.Join("openapi", "redocly.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "redocly.yaml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--yes", "@redocly/cli@" + redoclyVersion, "lint", "--config", "redocly.yaml", "--format", "json"}
	for i, doc := range docs {
		name := "openapi.json"
		if i > 0 {
			name = fmt.Sprintf("variant-%d.json", i)
		}
		if err := os.WriteFile(filepath.Join(dir, name), doc, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	// No telemetry and no update check: CI reaches only the npm registry.
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_UPDATE_NOTIFIER=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	// One JSON report per document, one after the other.
	dec := json.NewDecoder(bytes.NewReader(out))
	var problems [][]lintProblem
	for range docs {
		var report struct {
			Problems []lintProblem `json:"problems"`
		}
		if err := dec.Decode(&report); err != nil {
			t.Fatalf("redocly lint did not report (%v, %v): %s%s", runErr, err, out, stderr.String())
		}
		problems = append(problems, report.Problems)
	}
	return problems
}

// The document the daemon serves passes redocly's recommended rules, with
// an operationId, a 4xx and (where a token is needed) a 401 on every
// operation; warnings count as failures. A copy without GET /v1/sims's 4xx
// and operationId shows that the rules catch what they are there for.
func TestOpenAPIPassesRedoclyLint(t *testing.T) {
	raw, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	get := doc["paths"].(map[string]any)["/v1/sims"].(map[string]any)["get"].(map[string]any)
	for code := range get["responses"].(map[string]any) {
		if strings.HasPrefix(code, "4") {
			delete(get["responses"].(map[string]any), code)
		}
	}
	delete(get, "operationId")
	broken, _ := json.Marshal(doc)

	reports := redoclyLint(t, raw, broken)
	for _, p := range reports[0] {
		t.Error(p)
	}
	found := map[string]bool{}
	for _, p := range reports[1] {
		if len(p.Location) > 0 && strings.HasPrefix(p.Location[0].Pointer, "#/paths/~1v1~1sims/get") {
			found[p.RuleID] = true
		}
	}
	for _, rule := range []string{"rule/token-protected-401", "operation-4xx-response", "operation-operationId"} {
		if !found[rule] {
			t.Errorf("GET /v1/sims without 4xx and operationId: %s not reported (got %v)", rule, found)
		}
	}
}
