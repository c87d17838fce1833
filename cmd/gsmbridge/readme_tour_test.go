package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
)

// tourCommands are the gsmbridge lines of the README's tour, as written.
func tourCommands(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, tour, ok := strings.Cut(string(readme), "## A tour on simulated modems\n")
	if !ok {
		t.Fatal("README has no tour section")
	}
	_, block, ok := strings.Cut(tour, "```sh\n")
	block, _, closed := strings.Cut(block, "```")
	if !ok || !closed {
		t.Fatal("the tour has no sh block")
	}
	var cmds []string
	for _, line := range strings.Split(block, "\n") {
		if strings.HasPrefix(line, "gsmbridge ") {
			cmds = append(cmds, line)
		}
	}
	return cmds
}

// The tour's commands work as a reader types them: through a shell, with
// the installed binary, against `serve --modemsim` (the address is the only
// difference: the test's daemon listens on a free port).
func TestREADMETourRunsAsWritten(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to run the README's lines with")
	}
	bin := buildGsmbridge(t)
	base := startServeSim(t)
	waitFor(t, "four simulated modems ready", func() bool {
		var answer struct{ Modems []api.Modem }
		getJSON(t, base+"/v1/modems", &answer)
		ready := 0
		for _, m := range answer.Modems {
			if m.State == "ready" {
				ready++
			}
		}
		return ready == 4
	})

	// What each command must show; every line of the tour must be here.
	want := map[string][]string{
		"gsmbridge confirm +79161110001 --txn 12345 --amount 1500.00 --wait": {": confirmed"},
		"gsmbridge balance":                   {"ICCID", "MTS", "Beeline"},
		"gsmbridge ussd --modem sim0 '*111#'": {"1. Balance\n2. Tariff\n", "151,25"},
		"gsmbridge modems":                    {"sim0", "sim3", "ready"},
	}
	cmds := tourCommands(t)
	if len(cmds) != len(want) {
		t.Errorf("the tour runs %q; this test knows %d commands", cmds, len(want))
	}
	for _, line := range cmds {
		t.Run(line, func(t *testing.T) {
			wantOut, known := want[line]
			if !known {
				t.Fatalf("a tour command this test does not know: %q", line)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", "-c", line)
			cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
				"GSMBRIDGE_ADDR="+base, "GSMBRIDGE_TOKEN=")
			cmd.Stdin = strings.NewReader("1\n") // the menu's answer, for the ussd line
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
			}
			for _, w := range wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
		})
	}

	// send's --modem takes the name too, and the message is pinned to it.
	var modems struct{ Modems []api.Modem }
	getJSON(t, base+"/v1/modems", &modems)
	ids := map[string]string{}
	for _, m := range modems.Modems {
		ids[m.Name] = m.ID
	}
	code, out, errOut := runVerb(t.Context(), "send", "+79031110003", "hi", "--modem", "sim1", "--json", "--addr", base)
	var accepted struct{ ID string }
	if code != 0 || json.Unmarshal([]byte(out), &accepted) != nil || accepted.ID == "" {
		t.Fatalf("send --modem sim1: exit %d, %q (%s)", code, out, errOut)
	}
	var sent struct {
		Pinned string `json:"pinned_modem"`
	}
	getJSON(t, base+"/v1/messages/"+accepted.ID, &sent)
	if sent.Pinned != ids["sim1"] || sent.Pinned == "" {
		t.Errorf("send --modem sim1: pinned to %q, want %q", sent.Pinned, ids["sim1"])
	}
}
