package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/modemsim"
)

func TestSendWaitDeliversCyrillicExactly(t *testing.T) {
	h := startClientDaemon(t, "", modemsim.Generic)
	customer := "+79161234567"
	h.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	text := "Оплата 1 250,00 ₽ получена. Спасибо, что выбрали нас! Ёлки-палки, это длинное сообщение на две части."

	code, out, errOut := h.cli("send", "8 916 123-45-67", text, "--wait")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	// Every state the message passed through is printed once, queued first
	// and sent last; sending may be too quick for a poll to see.
	got := outputLines(out)
	first := regexp.MustCompile(`^(msg_[a-z0-9]+) queued \(2 parts\)$`).FindStringSubmatch(got[0])
	if first == nil {
		t.Fatalf("first line %q, want the id queued with 2 parts; output:\n%s", got[0], out)
	}
	id := first[1]
	if last := got[len(got)-1]; !regexp.MustCompile(`^` + id + ` sent \(2 parts\) via \S+$`).MatchString(last) {
		t.Fatalf("last line %q, want %s sent via its modem; output:\n%s", last, id, out)
	}
	pollUntil(t, "the customer's phone got it", func() bool { return len(h.net.Phones().Inbox(customer)) == 1 })
	if m := h.net.Phones().Inbox(customer)[0]; m.Text != text || m.Parts != 2 {
		t.Fatalf("phone got %q in %d parts, want %q in 2", m.Text, m.Parts, text)
	}
}

func TestSendWaitReportJSON(t *testing.T) {
	h := startClientDaemon(t, "", modemsim.SIMCom)
	h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
	code, out, errOut := h.cli("send", "--report", "--wait", "--json", "--ref", "order-17", "+79161234567", "Код 4711")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var m struct {
		State, Reference, To, Text string
		Report                     bool
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("stdout is not one JSON message: %v\n%s", err, out)
	}
	if m.State != "delivered" || m.Reference != "order-17" || m.To != "+79161234567" || m.Text != "Код 4711" || !m.Report {
		t.Fatalf("final message %+v", m)
	}
}

func TestSendFailuresExitNonZeroWithTheReason(t *testing.T) {
	h := startClientDaemon(t, "", modemsim.Generic)
	h.modems[0].Faults().FailSends(1, 21) // transfer rejected: no retry can cure it

	tests := []struct {
		name      string
		args      []string
		wantCode  int
		wantError *regexp.Regexp
	}{
		{"the network rejects it", []string{"send", "+79161234567", "hi", "--wait"}, 1,
			regexp.MustCompile(`^gsmbridge send: message msg_[a-z0-9]+: failed: short message transfer rejected \(CMS 21\)\n$`)},
		{"a bad number names the field", []string{"send", "+7916abc", "hi"}, 1,
			regexp.MustCompile(`^gsmbridge send: to: .+ \(invalid_field\)\n$`)},
		{"a bad ttl names the field", []string{"send", "+79161234567", "hi", "--ttl", "100h"}, 1,
			regexp.MustCompile(`^gsmbridge send: ttl: must be at most .+ \(invalid_field\)\n$`)},
		{"an unknown modem", []string{"send", "+79161234567", "hi", "--modem", "nope"}, 1,
			regexp.MustCompile(`^gsmbridge send: --modem "nope": no modem has that id or name; the daemon runs [0-9]{15}\n$`)},
		{"no text", []string{"send", "+79161234567"}, 2,
			regexp.MustCompile(`^gsmbridge send: give the NUMBER and the TEXT \(quote the text\)\n` + helpHint("send") + `$`)},
		{"an unknown flag", []string{"send", "+79161234567", "hi", "--colour", "red"}, 2,
			regexp.MustCompile(`^gsmbridge send: flag provided but not defined: -colour\n` + helpHint("send") + `$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := h.cli(tt.args...)
			if code != tt.wantCode || !tt.wantError.MatchString(errOut) {
				t.Fatalf("exit %d, stderr %q; want %d, %s", code, errOut, tt.wantCode, tt.wantError)
			}
			if tt.wantCode == 2 && out != "" {
				t.Errorf("a usage error printed %q", out)
			}
		})
	}
	// Only the one message the network rejected was accepted.
	code, out, _ := h.cli("messages", "--json")
	var list struct{ Messages []struct{ State string } }
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Messages) != 1 || list.Messages[0].State != "failed" {
		t.Fatalf("messages: exit %d, %s", code, out)
	}
}

func TestSendIdempotencyKeyReturnsTheFirstMessage(t *testing.T) {
	h := startClientDaemon(t, "", modemsim.Generic)
	var ids []string
	for range 2 {
		code, out, errOut := h.cli("send", "+79161234567", "once", "--idempotency-key", "pay-42", "--json")
		var m struct{ ID string }
		if code != 0 || json.Unmarshal([]byte(out), &m) != nil {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		ids = append(ids, m.ID)
	}
	if ids[0] == "" || ids[0] != ids[1] {
		t.Fatalf("ids %q: a repeated key must return the first message", ids)
	}
	code, _, errOut := h.cli("send", "+79161234567", "another text", "--idempotency-key", "pay-42")
	if code != 1 || !strings.Contains(errOut, "(conflict)") {
		t.Fatalf("reused key with another text: exit %d, stderr %q", code, errOut)
	}
}

func TestSendWaitInterruptedSaysWhereTheMessageIs(t *testing.T) {
	h := startClientDaemon(t, "", modemsim.Generic)
	h.modems[0].Faults().SetLatency("AT+CMGS", time.Second) // holds the message in sending
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"send", "+79161234567", "hi", "--wait", "--addr", h.addr}, &out, &errOut)
	}()
	pollUntil(t, "the message seen sending", func() bool { return strings.Contains(out.String(), " sending via ") })
	cancel() // Ctrl-C
	if code := <-done; code != 1 {
		t.Fatalf("exit %d, want 1: the message was not seen sent", code)
	}
	if !regexp.MustCompile(`^gsmbridge send: stopped waiting; message msg_[a-z0-9]+ is sending \(gsmbridge messages shows how it goes on\)\n$`).MatchString(errOut.String()) {
		t.Fatalf("stderr %q", errOut.String())
	}
}
