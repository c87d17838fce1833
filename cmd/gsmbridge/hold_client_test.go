package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
)

// With no modem at all a message waits, and both the list and send --wait
// say for what.
func TestQueuedMessageShowsWhatItWaitsFor(t *testing.T) {
	h := startClientDaemon(t, "")
	if code, _, errOut := h.cli("send", "+79161234567", "ждёт модем"); code != 0 {
		t.Fatalf("send: %s", errOut)
	}
	header := []string{"ID", "STATE", "TO", "PARTS", "MODEM", "CREATED", "WAITING", "ERROR", "TEXT"}
	waitFor(t, "the list to show the hold", func() bool {
		code, out, errOut := h.cli("messages")
		if code != 0 {
			t.Fatalf("messages: %s", errOut)
		}
		rows := checkColumns(t, out, header, 1)
		return cellAt(t, outputLines(out)[0], rows[0], "WAITING") == "no_ready_modem"
	})

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second) // the message never goes: the wait ends here
	defer cancel()
	_, out, _ := runVerb(ctx, "send", "+79161234567", "и это ждёт", "--wait", "--addr", h.addr)
	if !strings.Contains(out, "queued (waiting: no_ready_modem; no modem is ready to send)") {
		t.Fatalf("send --wait printed %q, want the hold", out)
	}
}

func TestHoldCell(t *testing.T) {
	until := time.Date(2026, 11, 25, 12, 0, 10, 0, time.UTC)
	tests := []struct {
		hold *api.Hold
		want string
	}{
		{nil, ""},
		{&api.Hold{Reason: "sim_suspect"}, "sim_suspect"},
		{&api.Hold{Reason: "sim_limit", Until: until}, "sim_limit until " + until.Local().Format("2006-01-02 15:04:05")},
	}
	for _, tc := range tests {
		if got := holdCell(tc.hold); got != tc.want {
			t.Errorf("holdCell(%+v) = %q, want %q", tc.hold, got, tc.want)
		}
	}
}
