package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/gsmbridge/gsmbridge/internal/config"
)

func TestCheckConfig(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "modems:\n  - port: /dev/ttyUSB0\n  - auto: true\n")
	bad := write("bad.yaml", "modems:\n  - port: /dev/ttyUSB0\n    baud: fast\nlog:\n  levle: info\n")
	oneBad := write("onebad.yaml", "listen: nowhere\n")
	slowUSSD := write("slowussd.yaml", "ussd:\n  reply_timeout: 80s\n  session_timeout: 3m\n")
	example := write("example.yaml", string(config.Example))
	exposed := write("exposed.yaml", "listen: 0.0.0.0:8780\nauth:\n  tokens:\n    - "+config.HashToken("t")+"\n")

	tests := []struct {
		name       string
		args       []string
		wantOut    string
		wantErrOut string
		wantErr    string
		wantUsage  bool
	}{
		{name: "good", args: []string{good}, wantOut: "ok: 2 modems, 0 sims, 0 webhooks\n"},
		{name: "the shipped example", args: []string{example}, wantOut: "ok: 2 modems, 1 sims, 1 webhooks\n"},
		{
			name:       "every problem, one per line",
			args:       []string{bad},
			wantErrOut: bad + ":3: modems[0].baud: must be a positive integer, got \"fast\"\n" + bad + ":5: log.levle: unknown key; did you mean \"level\"?\n",
			wantErr:    bad + ": 2 problems",
		},
		{
			name:       "one problem",
			args:       []string{oneBad},
			wantErrOut: oneBad + ":1: listen: must be host:port such as 127.0.0.1:8780, got \"nowhere\"\n",
			wantErr:    oneBad + ": 1 problem",
		},
		{
			name: "a USSD wait longer than an API answer may take",
			args: []string{slowUSSD},
			wantErrOut: slowUSSD + ":2: ussd.reply_timeout: must be at most 1m: a balance check through the API waits this long for the network, " +
				"plus 15s of commands and 10s to end the session, and must answer within the HTTP server's 1m30s write timeout; got 1m20s\n",
			wantErr: slowUSSD + ": 1 problem",
		},
		{
			name:    "warnings do not fail the check",
			args:    []string{exposed},
			wantOut: "ok: 0 modems, 0 sims, 0 webhooks\n",
			wantErrOut: "warning: " + exposed + ":1: listen: \"0.0.0.0\" is reachable from other machines over plain HTTP: tokens and customer numbers cross the network in clear text; set tls.cert_file and tls.key_file, or put a TLS proxy in front and listen on loopback\n" +
				"warning: " + exposed + ":4: auth.tokens[0]: a bare hash has full access and no name (deprecated): write name, hash and scopes, with scopes [admin] for full access\n",
		},
		{
			name:    "warnings in JSON",
			args:    []string{"--json", exposed},
			wantOut: `{"ok":true,"modems":0,"sims":0,"webhooks":0,"problems":[],"warnings":[{"file":"` + exposed + `","line":1,"key":"listen","message":"\"0.0.0.0\" is reachable from other machines over plain HTTP: tokens and customer numbers cross the network in clear text; set tls.cert_file and tls.key_file, or put a TLS proxy in front and listen on loopback"},{"file":"` + exposed + `","line":4,"key":"auth.tokens[0]","message":"a bare hash has full access and no name (deprecated): write name, hash and scopes, with scopes [admin] for full access"}]}` + "\n",
		},
		{name: "missing file", args: []string{filepath.Join(dir, "nope.yaml")}, wantErr: "read configuration: open " + filepath.Join(dir, "nope.yaml") + ": no such file or directory"},
		{name: "no file", args: nil, wantErr: "give exactly one configuration file", wantUsage: true},
		{name: "two files", args: []string{good, bad}, wantErr: "give exactly one configuration file", wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runCheckConfig(context.Background(), tt.args, &out, &errOut)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			var u usageError
			if errors.As(err, &u) != tt.wantUsage {
				t.Errorf("usage error = %v, want %v", errors.As(err, &u), tt.wantUsage)
			}
			if out.String() != tt.wantOut || errOut.String() != tt.wantErrOut {
				t.Errorf("stdout %q, stderr %q; want %q, %q", out.String(), errOut.String(), tt.wantOut, tt.wantErrOut)
			}
		})
	}
}

func TestCheckConfigHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runCheckConfig(context.Background(), []string{"-h"}, &out, &errOut)
	if !errors.Is(err, flag.ErrHelp) || !bytes.Contains(out.Bytes(), []byte("usage: gsmbridge check-config [--json] FILE")) || errOut.Len() > 0 {
		t.Errorf("err %v, stdout %q, stderr %q", err, out.String(), errOut.String())
	}
}
