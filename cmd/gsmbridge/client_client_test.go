package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/gsmbridge/gsmbridge/modemsim"
)

func TestTokenIsRequiredOnceConfigured(t *testing.T) {
	const token = "0f3c9a1e7b6d4c2a9e8f7a6b5c4d3e2f"
	h := startClientDaemon(t, token, modemsim.Generic)
	tests := []struct {
		name       string
		env        string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{name: "no token", args: []string{"modems"}, wantCode: 1,
			wantStderr: "gsmbridge modems: a valid bearer token is required (unauthorized); give --token or set GSMBRIDGE_TOKEN\n"},
		{name: "a wrong token", args: []string{"send", "+79161234567", "hi", "--token", "guess"}, wantCode: 1,
			wantStderr: "gsmbridge send: a valid bearer token is required (unauthorized); the daemon refused the token given; check --token or GSMBRIDGE_TOKEN\n"},
		{name: "the token as a flag", args: []string{"modems", "--token", token}},
		{name: "the token from the environment", env: token, args: []string{"sims"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GSMBRIDGE_TOKEN", tt.env)
			code, out, errOut := h.cli(tt.args...)
			if code != tt.wantCode || errOut != tt.wantStderr {
				t.Fatalf("exit %d, stderr %q; want %d, %q", code, errOut, tt.wantCode, tt.wantStderr)
			}
			if code == 0 && !strings.HasPrefix(out, "ICCID") && !strings.HasPrefix(out, "ID") {
				t.Fatalf("no table: %q", out)
			}
		})
	}
}

func TestDaemonAnswersTheCLICannotUse(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Setenv("GSMBRIDGE_TOKEN", "")
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // answers only by hanging up when the client gives up
	}))
	defer stalled.Close()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream \x1b[31mdown\x1b[0m", http.StatusBadGateway)
	}))
	defer proxy.Close()
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>hello</html>"))
	}))
	defer notJSON.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"nobody listens", []string{"modems", "--addr", closedAddr}, 1,
			`^gsmbridge modems: cannot connect to http://` + regexp.QuoteMeta(closedAddr) + ` \(connection refused\): is the daemon running\? \(gsmbridge serve\)\n$`},
		{"no answer in time", []string{"messages", "--addr", stalled.URL, "--timeout", "200ms"}, 1,
			`^gsmbridge messages: no answer from ` + regexp.QuoteMeta(stalled.URL) + ` within 200ms \(--timeout\): context deadline exceeded\n$`},
		{"an error that is not the daemon's", []string{"sims", "--addr", proxy.URL}, 1,
			`^gsmbridge sims: HTTP 502 Bad Gateway from ` + regexp.QuoteMeta(proxy.URL) + `: upstream \x{FFFD}\[31mdown\x{FFFD}\[0m\n$`},
		{"not JSON", []string{"modems", "--addr", notJSON.URL}, 1,
			`^gsmbridge modems: GET /v1/modems: the daemon's answer is not the JSON expected: `},
		{"not an HTTP address", []string{"modems", "--addr", "ftp://127.0.0.1:21"}, 2,
			`^gsmbridge modems: --addr "ftp://127.0.0.1:21": want http://host:port such as http://127.0.0.1:8780\n` + helpHint("modems") + `$`},
		{"a path in the address", []string{"inbox", "--addr", "http://127.0.0.1:8780/v1"}, 2, `--addr "http://127.0.0.1:8780/v1": want`},
		{"a stray argument", []string{"modems", "all"}, 2, `^gsmbridge modems: unexpected argument "all"\n` + helpHint("modems") + `$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runVerb(context.Background(), tt.args...)
			if code != tt.wantCode || !regexp.MustCompile(tt.wantStderr).MatchString(errOut) || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, stderr matching %s", code, out, errOut, tt.wantCode, tt.wantStderr)
			}
		})
	}
}
