package config

import (
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that no file, however mangled, panics the parser, that
// every problem points inside the file, and that whatever Parse accepts
// Validate accepts too.
func FuzzParse(f *testing.F) {
	f.Add(Example)
	f.Add([]byte(""))
	f.Add([]byte("modems:\n  - port: /dev/ttyUSB0\n  - port: /dev/ttyUSB1\n    baud: fast\n"))
	f.Add([]byte("webhooks:\n  - &hook\n    url: http://a.local/x\n    secrets: [\"0123456789abcdef\"]\n  - <<: *hook\n    url: http://b.local/x\n"))
	f.Add([]byte("sims:\n  \"8970101000000000001F\": {msisdn: \"+7916\"}\nsend: {default_ttl: 1.5d, max_ttl: 10}\n"))
	f.Add([]byte("log:\n  level: [info\n"))
	f.Add([]byte("operators:\n  - &m0 {name: x}\n  - &m1 {<<: [*m0, *m0]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data)
		lines := lineCount(data)
		for _, e := range Errors(err) {
			if e.File != "f.yaml" || e.Line < 0 || e.Line > lines {
				t.Fatalf("problem outside the file (%d lines): %+v", lines, e)
			}
		}
		if err != nil {
			if c != nil {
				t.Fatal("config returned with an error")
			}
			if len(Errors(err)) == 0 {
				t.Fatalf("error without located problems: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate rejects: %v", err)
		}
	})
}

// FuzzParseDuration checks days against the standard parser: whatever
// time.ParseDuration accepts (bare numbers aside) must parse the same, and
// every accepted duration must read back from the form messages print.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"500ms", "1.5s", "10m", "72h", "30d", "1.5d", "0.1d", "1d12h", "-1d", "0", "10", "1..5d", "200000d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		std, stdErr := time.ParseDuration(strings.TrimSpace(s))
		if !strings.Contains(s, "d") && stdErr == nil && err == nil && d != std {
			t.Fatalf("ParseDuration(%q) = %v, time.ParseDuration = %v", s, d, std)
		}
		if err != nil {
			return
		}
		back, err := ParseDuration(formatDuration(d))
		if err != nil || back != d {
			t.Fatalf("%q = %v; formatDuration gives %q which parses to %v, %v", s, d, formatDuration(d), back, err)
		}
	})
}
