package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"go.uber.org/goleak"
)

// waitedAnswer runs withProgress on w around an exchange that answers at once.
func waitedAnswer(t *testing.T, w io.Writer) {
	t.Helper()
	turn, err := withProgress(w, func() (ussdTurn, error) { return ussdTurn{text: "ok"}, nil })
	if err != nil || turn.text != "ok" {
		t.Fatalf("withProgress: %+v, %v", turn, err)
	}
}

func TestProgressRewritesItsLineOnlyOnATerminal(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Setenv("TERM", "xterm")
	const plain = "waiting for the network's answer...\n"

	var buf bytes.Buffer
	waitedAnswer(t, &buf)
	if buf.String() != plain {
		t.Errorf("to a buffer: %q, want %q", buf.String(), plain)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitedAnswer(t, w)
	w.Close()
	if got, _ := io.ReadAll(r); string(got) != plain {
		t.Errorf("to a pipe: %q, want %q", got, plain)
	}

	onTTY := func() string {
		master, slave, err := pty.Open()
		if err != nil {
			t.Skipf("no pty: %v", err)
		}
		defer master.Close()
		got := make(chan []byte, 1)
		go func() {
			// Reading ends with EIO once the slave side is closed.
			b, _ := io.ReadAll(master)
			got <- b
		}()
		waitedAnswer(t, slave)
		slave.Close()
		select {
		case b := <-got:
			return string(b)
		case <-time.After(10 * time.Second):
			t.Fatal("nothing read from the pty")
		}
		return ""
	}
	if out := onTTY(); !strings.HasPrefix(out, "waiting for the network's answer...") || !strings.HasSuffix(out, "\r\x1b[K") {
		t.Errorf("on a terminal: %q, want the line cleared at the end", out)
	}
	t.Setenv("TERM", "dumb")
	if out := onTTY(); strings.ContainsAny(out, "\x1b") {
		t.Errorf("on a dumb terminal: %q", out)
	}
}

func TestCleanTextKeepsLinesAndDropsControls(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1. Balance\n2. Tariff", "1. Balance\n2. Tariff"},
		{"Balance\r\n151,25 r.", "Balance\n151,25 r."},
		{"a\rb", "a\nb"},
		{"\x1b[2J\x1b[31mPay now\x1b[0m", "\uFFFD[2J\uFFFD[31mPay now\uFFFD[0m"},
		{"col\tumn\x07\x00", "col\tumn\uFFFD\uFFFD"},
		{"\u202eevil", "\uFFFDevil"},
	}
	for _, tt := range tests {
		if got := cleanText(tt.in); got != tt.want {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
