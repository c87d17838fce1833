package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain lets this test binary play the children's parts: the floor
// starts copies of its own executable.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) != "" {
		if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

func TestFloorMeasures(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"host", "--messages", "5", "--rate", "50", "--latency", "5ms"},
			`^floor host: 5 messages at 50\.0/s .*: 5 sent, \d+ms CPU, \d+\.\d\dms per message\n$`},
		{[]string{"fleet", "--messages", "60"},
			`^floor fleet: 60 messages, 3 hosts × 8 lanes on a 3-node cluster, a fleet host's operations, as fast as they go: \d+/s; hosts \d+\.\d\dms CPU per message, cluster \d+\.\d\dms\n$`},
		{[]string{"fleet", "--messages", "60", "--rate", "200", "--minimal", "--hosts", "2"},
			`^floor fleet: 60 messages, 2 hosts × 8 lanes .*, publish, claim, ack and the claim's end alone, paced at 200/s: \d+/s; `},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			var out bytes.Buffer
			if err := run(ctx, tt.args, nil, &out); err != nil {
				t.Fatalf("floor %v: %v", tt.args, err)
			}
			if !regexp.MustCompile(tt.want).MatchString(out.String()) {
				t.Errorf("floor %v printed %q, want %s", tt.args, out.String(), tt.want)
			}
		})
	}
}

func TestFloorRefusesUnknownModes(t *testing.T) {
	for _, args := range [][]string{nil, {"cluster"}, {"host", "--rate", "x"}} {
		if err := run(t.Context(), args, nil, &bytes.Buffer{}); err == nil {
			t.Errorf("floor %v: no error", args)
		}
	}
}
