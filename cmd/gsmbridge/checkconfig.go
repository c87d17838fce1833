package main

import (
	"context"
	"fmt"
	"io"

	"github.com/gsmbridge/gsmbridge/internal/config"
)

// configCheck is check-config's answer under --json.
type configCheck struct {
	OK       bool            `json:"ok"`
	Modems   int             `json:"modems"`
	SIMs     int             `json:"sims"`
	Webhooks int             `json:"webhooks"`
	Problems []configProblem `json:"problems"`
	// Warnings are allowed but unwise; they do not fail the check.
	Warnings []configProblem `json:"warnings"`
}

type configProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
}

// runCheckConfig validates a configuration file without starting anything,
// so an operator can check an edit before restarting the daemon.
func runCheckConfig(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check-config", stdout, help{
		synopsis: "[--json] FILE",
		about: "Validates FILE without starting anything and reports every problem in it as\n" +
			"file:line: key: message, one per line on stderr (exit 1), or a summary (exit 0).\n" +
			"What is allowed but unwise (bare tokens, tokens over plain HTTP) is printed as\n" +
			"warning: lines on stderr and does not fail the check.",
		examples: []string{
			"gsmbridge check-config /etc/gsmbridge/config.yaml",
			"gsmbridge check-config --json gsmbridge.yaml | jq '.problems[].key'",
		},
	})
	asJSON := fs.Bool("json", false, "print the summary or the problems as JSON on stdout")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give exactly one configuration file"}
	}
	path := pos[0]
	c, err := config.Load(path)
	if err != nil {
		problems := config.Errors(err)
		if len(problems) == 0 {
			return err // the file could not be read
		}
		report := configCheck{Problems: []configProblem{}, Warnings: []configProblem{}}
		for _, p := range problems {
			if !*asJSON {
				fmt.Fprintln(stderr, p)
			}
			report.Problems = append(report.Problems, configProblem{File: p.File, Line: p.Line, Key: p.Path, Message: p.Msg})
		}
		if *asJSON {
			if err := writeJSONLine(stdout, report); err != nil {
				return err
			}
		}
		if len(problems) == 1 {
			return fmt.Errorf("%s: 1 problem", path)
		}
		return fmt.Errorf("%s: %d problems", path, len(problems))
	}
	report := configCheck{OK: true, Modems: len(c.Modems), SIMs: len(c.SIMs), Webhooks: len(c.Webhooks), Problems: []configProblem{}, Warnings: []configProblem{}}
	for _, w := range c.Warnings() {
		if !*asJSON {
			fmt.Fprintln(stderr, "warning:", w)
		}
		report.Warnings = append(report.Warnings, configProblem{File: w.File, Line: w.Line, Key: w.Path, Message: w.Msg})
	}
	if *asJSON {
		return writeJSONLine(stdout, report)
	}
	_, err = fmt.Fprintf(stdout, "ok: %d modems, %d sims, %d webhooks\n", report.Modems, report.SIMs, report.Webhooks)
	return err
}
