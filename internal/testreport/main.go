// Command testreport turns `go test -json` on its standard input into what
// plain `go test` prints (each package's ok or FAIL line, the output of
// failed tests and of packages that did not build), then lists every
// skipped test with its reason, so a check that did not run is seen, and
// ends with a count line. It exits 1 when anything failed. test.sh pipes
// the suite through it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	if !report(os.Stdin, os.Stdout) {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string // build-output and build-fail
}

type skip struct{ pkg, test, reason string }

type reporter struct {
	out                     io.Writer
	running                 map[string][]string // output so far, by package and test
	skips                   []skip
	passed, failed, skipped int
	broken                  bool // a package failed outside any test, or did not build
}

// report copies the readable part of r to w and tells whether all passed.
func report(r io.Reader, w io.Writer) bool {
	rp := &reporter{out: w, running: map[string][]string{}}
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			rp.line(line)
		}
		if err != nil {
			break
		}
	}
	rp.summary()
	return rp.failed == 0 && !rp.broken
}

func (rp *reporter) line(line string) {
	var e event
	if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &e) != nil {
		fmt.Fprint(rp.out, line) // the go command's own messages
		return
	}
	key := e.Package + " " + e.Test
	switch {
	case e.Action == "build-output":
		fmt.Fprint(rp.out, e.Output)
	case e.Action == "build-fail":
		rp.broken = true
	case e.Test == "":
		rp.packageEvent(e)
	case e.Action == "run":
		rp.running[key] = nil
	case e.Action == "output":
		rp.running[key] = append(rp.running[key], e.Output)
	case e.Action == "pass":
		rp.passed++
		delete(rp.running, key)
	case e.Action == "fail":
		rp.failed++
		fmt.Fprint(rp.out, strings.Join(rp.running[key], ""))
		delete(rp.running, key)
	case e.Action == "skip":
		rp.skipped++
		rp.skips = append(rp.skips, skip{e.Package, e.Test, skipReason(rp.running[key])})
		delete(rp.running, key)
	}
}

func (rp *reporter) packageEvent(e event) {
	switch e.Action {
	case "output":
		if e.Output != "PASS\n" {
			fmt.Fprint(rp.out, e.Output)
		}
	case "fail":
		rp.broken = true
		// Tests cut short by a panic or the timeout never end: show what
		// they printed, since it says why.
		for key, out := range rp.running {
			if strings.HasPrefix(key, e.Package+" ") {
				fmt.Fprintf(rp.out, "--- %s did not finish:\n%s", strings.TrimPrefix(key, e.Package+" "), strings.Join(out, ""))
				delete(rp.running, key)
			}
		}
	}
}

// skipReason is what a skipped test logged, without the runner's own lines.
func skipReason(output []string) string {
	var lines []string
	for _, o := range output {
		for _, l := range strings.Split(strings.TrimRight(o, "\n"), "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
				continue
			}
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return "(no reason given)"
	}
	return strings.Join(lines, " / ")
}

func (rp *reporter) summary() {
	if len(rp.skips) > 0 {
		fmt.Fprintf(rp.out, "\nSkipped tests (%d):\n", len(rp.skips))
		for _, s := range rp.skips {
			fmt.Fprintf(rp.out, "  %s %s: %s\n", s.pkg, s.test, s.reason)
		}
	}
	fmt.Fprintf(rp.out, "\ntests: %d passed, %d failed, %d skipped\n", rp.passed, rp.failed, rp.skipped)
}
