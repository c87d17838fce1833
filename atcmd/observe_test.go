package atcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

func TestCommandNameNeverCarriesArguments(t *testing.T) {
	tests := []struct{ cmd, want string }{
		{"AT", "AT"},
		{"at", "AT"},
		{"ATE0", "E"},
		{"ATZ", "Z"},
		{"ATI", "I"},
		{"ATD+79161234567;", "D"},
		{"AT+CMGS=23", "CMGS"},
		{"at+cmgs=152", "CMGS"},
		{`AT+CUSD=1,"*100#",15`, "CUSD"},
		{`AT+CUSD=1,"AA180C3602",15`, "CUSD"},
		{"AT+CSQ", "CSQ"},
		{"AT+CREG?", "CREG"},
		{"AT+CNMI=?", "CNMI"},
		{"AT+CNMI=2,1,0,2,0", "CNMI"},
		{"AT^ICCID?", "ICCID"},
		{"AT^USSDMODE=0", "USSDMODE"},
		{"AT+QCCID", "QCCID"},
		{"AT+CRSM=176,12258,0,0,10", "CRSM"},
		{"AT+CPIN=1234", "CPIN"},
		{"AT+CMGD=3", "CMGD"},
		{"AT+XLEMA?", "other"},
		{"AT+79161234567", "other"},
		{"AT&F", "other"},
		{"", "other"},
		{"+CSQ", "other"},
	}
	for _, tt := range tests {
		if got := CommandName(tt.cmd); got != tt.want {
			t.Errorf("CommandName(%q) = %q, want %q", tt.cmd, got, tt.want)
		}
	}
}

func TestOutcomeClassifiesEngineErrors(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{fmt.Errorf("atcmd AT+CSQ: %w", &ResultError{Result: "ERROR"}), "error"},
		{fmt.Errorf("atcmd AT+CPIN: %w", &CMEError{Code: 10}), "cme"},
		{fmt.Errorf("atcmd AT+CMGS: %w", &CMSError{Code: 304}), "cms"},
		{fmt.Errorf("atcmd AT+CSQ: %w: %w", ErrTimeout, context.DeadlineExceeded), "timeout"},
		// The unknown outcome of a send wraps its cause: the send's fate,
		// not the cause, is what operators must see.
		{fmt.Errorf("atcmd AT+CMGS: %w: %w", ErrOutcomeUnknown, ErrTimeout), "unknown_outcome"},
		{fmt.Errorf("atcmd AT+CMGS: %w: %w", ErrOutcomeUnknown, ErrPortLost), "unknown_outcome"},
		{fmt.Errorf("atcmd AT+CSQ: %w: %w", ErrPortLost, io.EOF), "port_lost"},
		{ErrHung, "hung"},
		{fmt.Errorf("atcmd AT+CSQ: %w", ErrReboot), "reboot"},
		{fmt.Errorf("atcmd AT+CSQ: %w", ErrClosed), "closed"},
		{fmt.Errorf("atcmd AT+CSQ: waiting for the line: %w", context.Canceled), "canceled"},
		{errors.New("something else"), "other"},
	}
	for _, tt := range tests {
		if got := Outcome(tt.err); got != tt.want {
			t.Errorf("Outcome(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

type observation struct {
	cmd, result string
	took        time.Duration
}

func TestEngineObservesEachCommand(t *testing.T) {
	m := newFakeModem(t)
	seen := make(chan observation, 8)
	e := startEngine(t, m, Options{Observe: func(cmd, result string, took time.Duration) {
		seen <- observation{cmd, result, took}
	}})
	run(t, e, m, "AT+CSQ", "\r\n+CSQ: 17,99\r\n\r\nOK\r\n")
	run(t, e, m, "AT+CPIN?", "\r\n+CME ERROR: 10\r\n")
	run(t, e, m, `AT+CUSD=1,"*100#",15`, "\r\nERROR\r\n")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ch := goExec(ctx, e, "AT+CMGS=23", "0011000B919761234567F70000AA0AE8329BFD4697D9EC37")
	m.expect(t, "AT+CMGS=23\r")
	waitResult(t, ch)
	if _, err := e.Exec(context.Background(), "no AT at all"); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("invalid command: %v", err)
	}

	want := []observation{{cmd: "CSQ", result: "ok"}, {cmd: "CPIN", result: "cme"}, {cmd: "CUSD", result: "error"}, {cmd: "CMGS", result: "timeout"}}
	for i, w := range want {
		select {
		case got := <-seen:
			if got.cmd != w.cmd || got.result != w.result {
				t.Errorf("observation %d = %s/%s, want %s/%s", i, got.cmd, got.result, w.cmd, w.result)
			}
			if got.took <= 0 {
				t.Errorf("observation %d took %v", i, got.took)
			}
		case <-time.After(testWait):
			t.Fatalf("observation %d (%s) never came", i, w.cmd)
		}
	}
	select {
	case got := <-seen:
		t.Errorf("unexpected observation %+v: an invalid command never reaches the line", got)
	default:
	}
}

// Whatever a caller writes, the name a metric gets is one of the fixed set:
// a command's arguments (a number, a USSD code, a PIN) never become a label.
func FuzzCommandName(f *testing.F) {
	for _, seed := range []string{"AT+CMGS=23", `AT+CUSD=1,"*100#",15`, "ATD+79161234567;", "AT^ICCID?", "ATE0", "AT", "at+cpin=1234", "AT+", "AT^", "AT+CSQ;+CREG?"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		name := CommandName(cmd)
		if name != "other" && !commandNames[name] {
			t.Fatalf("CommandName(%q) = %q, outside the fixed set", cmd, name)
		}
	})
}
