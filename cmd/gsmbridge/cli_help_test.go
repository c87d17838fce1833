package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// helpHint is helpHintLine as a regular expression.
func helpHint(verb string) string { return regexp.QuoteMeta(helpHintLine(verb)) }

// verbNames lists the dispatch table, so that a verb added to it is held to
// the conventions below without anyone remembering to list it.
func verbNames() []string {
	var names []string
	for n := range verbs() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func TestEveryVerbAnswersHelpOnStdout(t *testing.T) {
	for _, name := range verbNames() {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, out, errOut := runVerb(t.Context(), args...)
				if code != 0 || errOut != "" {
					t.Fatalf("exit %d, stderr %q; want 0 and nothing on stderr", code, errOut)
				}
				if !strings.HasPrefix(out, "usage: gsmbridge "+name+" ") {
					t.Errorf("no usage line first:\n%s", out)
				}
				if strings.Contains(out, "Usage of") {
					t.Errorf("Go's bare flag usage:\n%s", out)
				}
				flags, examples, ok := strings.Cut(out, "\nExamples:\n")
				if !ok || !strings.Contains(flags, "\nFlags:\n") {
					t.Fatalf("want Flags: then Examples: sections:\n%s", out)
				}
				if !regexp.MustCompile(`(?m)^  -json$`).MatchString(flags) {
					t.Errorf("no --json flag:\n%s", flags)
				}
				lines := outputLines(examples)
				if len(lines) == 0 || lines[0] == "" {
					t.Fatalf("no example:\n%s", out)
				}
				for _, l := range lines {
					if !strings.HasPrefix(l, "  ") || !strings.Contains(l, "gsmbridge "+name) {
						t.Errorf("example %q does not run gsmbridge %s", l, name)
					}
				}
			})
		}
	}
}

func TestEveryVerbReportsAMistakeOnStderr(t *testing.T) {
	for _, name := range verbNames() {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runVerb(t.Context(), name, "--no-such-flag")
			want := "gsmbridge " + name + ": flag provided but not defined: -no-such-flag\n" + helpHintLine(name)
			if code != 2 || out != "" || errOut != want {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2, nothing, %q", code, out, errOut, want)
			}
		})
	}
}

func TestTopLevelHelp(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		toStdout bool
	}{
		{args: []string{"--help"}, toStdout: true},
		{args: []string{"-h"}, toStdout: true},
		{args: []string{"help"}, toStdout: true},
		{args: nil, wantCode: 2},
		{args: []string{"frobnicate"}, wantCode: 2},
	}
	for _, tt := range tests {
		code, out, errOut := runVerb(t.Context(), tt.args...)
		page, other := errOut, out
		if tt.toStdout {
			page, other = out, errOut
		}
		if code != tt.wantCode || other != "" || !strings.Contains(page, "usage: gsmbridge <command>") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", tt.args, code, out, errOut)
			continue
		}
		for _, name := range verbNames() {
			if !strings.Contains(page, "\n  "+name+" ") {
				t.Errorf("%q: the command list lacks %s", tt.args, name)
			}
		}
	}
}
