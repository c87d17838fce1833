package modemsim

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testClock runs virtual time 100x faster, so seconds of modem behaviour
// take tens of milliseconds.
func testClock() Clock { return ScaledClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC), 100) }

func newTestNetwork(t *testing.T, opts NetworkOptions) *Network {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = testClock()
	}
	n, err := NewNetwork(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	return n
}

func addModem(t *testing.T, n *Network, cfg ModemConfig) *Modem {
	t.Helper()
	m, err := n.AddModem(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// client is the host side of a simulated modem, as a test drives it.
type client struct {
	t   *testing.T
	f   *os.File
	buf []byte
}

func dial(t *testing.T, path string) *client {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &client{t: t, f: f}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := c.f.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

var finalResult = regexp.MustCompile(`\r\n(OK|ERROR|\+CM[ES] ERROR: [^\r]*)\r\n`)

// readUntil reads until re matches, and returns everything up to the end
// of the match, leaving the rest buffered.
func (c *client) readUntil(re *regexp.Regexp, timeout time.Duration) string {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	tmp := make([]byte, 1024)
	for {
		if loc := re.FindIndex(c.buf); loc != nil {
			out := string(c.buf[:loc[1]])
			c.buf = append([]byte(nil), c.buf[loc[1]:]...)
			return out
		}
		if err := c.f.SetReadDeadline(deadline); err != nil {
			c.t.Fatal(err)
		}
		nr, err := c.f.Read(tmp)
		if err != nil {
			c.t.Fatalf("waiting for %q, have %q: %v", re, c.buf, err)
		}
		c.buf = append(c.buf, tmp[:nr]...)
	}
}

func (c *client) expect(s string) string {
	c.t.Helper()
	return c.readUntil(regexp.MustCompile(regexp.QuoteMeta(s)), 5*time.Second)
}

// cmd sends one command line and returns the whole answer, final result
// included.
func (c *client) cmd(line string) string {
	c.t.Helper()
	c.send(line + "\r")
	return c.readUntil(finalResult, 5*time.Second)
}

// mustOK runs a command that has to succeed and returns its info lines.
func (c *client) mustOK(line string) []string {
	c.t.Helper()
	out := c.cmd(line)
	if !strings.HasSuffix(out, "\r\nOK\r\n") {
		c.t.Fatalf("%s: got %q", line, out)
	}
	return infoLines(out)
}

// infoLines returns the non-empty lines before the final result, without
// the echo.
func infoLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\r\n") {
		if l == "" || l == "OK" || strings.HasPrefix(strings.ToUpper(l), "AT") {
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// quiet checks that nothing arrives for a while (virtual time d).
func (c *client) quiet(d time.Duration) {
	c.t.Helper()
	if err := c.f.SetReadDeadline(time.Now().Add(d)); err != nil {
		c.t.Fatal(err)
	}
	tmp := make([]byte, 256)
	nr, _ := c.f.Read(tmp)
	if got := append(c.buf, tmp[:nr]...); len(bytes.TrimSpace(got)) > 0 {
		c.t.Fatalf("expected silence, got %q", got)
	}
}

// ready opens a modem with echo off and numeric errors, as the daemon does.
func ready(t *testing.T, m *Modem) *client {
	t.Helper()
	c := dial(t, m.Path())
	c.mustOK("ATE0")
	c.mustOK("AT+CMEE=1")
	return c
}
