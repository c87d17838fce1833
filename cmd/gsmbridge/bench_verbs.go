package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/bench"
)

// benchVerbs measure the daemon rather than use it.
func benchVerbs() map[string]verb {
	return map[string]verb{
		"bench": {"load-test the daemon against simulated modems and print its throughput, latency, CPU and memory", runBench},
	}
}

// runBench reads the scenario from the flags; internal/bench runs it.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stdout, help{
		synopsis: "[flags]",
		about: "Starts simulated modems and a daemon of its own (this binary, or --daemon), posts\n" +
			"messages at it over HTTP and prints throughput, latency percentiles, CPU, memory and\n" +
			"modem busy time. It touches no real modem and no running daemon.",
		examples: []string{
			"gsmbridge bench --modems 4 --messages 1000 --concurrency 16",
			"gsmbridge bench --modems 2 --duration 1m --rate 5 --json",
			"gsmbridge bench --fleet 3 --modems 8 --latency 0 --messages 3000 --concurrency 24 --nats nats://n1:4222,nats://n2:4222,nats://n3:4222",
			"go run -tags fleetdemo ./cmd/gsmbridge bench --fleet 3 --modems 8 --latency 0 --messages 3000   # an embedded cluster",
		},
	})
	var sc bench.Scenario
	timeout := 10 * time.Minute
	fs.IntVar(&sc.Modems, "modems", 1, "simulated modems")
	fs.DurationVar(&sc.Latency, "latency", 500*time.Millisecond, "how long each modem takes to answer AT+CMGS (0 = at once)")
	fs.IntVar(&sc.Messages, "messages", 100, "messages to accept (ignored with --duration)")
	fs.DurationVar(&sc.Duration, "duration", 0, "accept messages for this long instead of a count")
	fs.IntVar(&sc.Concurrency, "concurrency", 4, "HTTP clients posting at once")
	fs.Float64Var(&sc.Rate, "rate", 0, "accepts per second across all clients (0 = as fast as they go); a low rate finds the modems idle")
	fs.IntVar(&sc.Parts, "parts", 1, "SMS parts per message")
	fs.BoolVar(&sc.QueueFirst, "queue-first", false, "accept every message with no modem attached, then restart the daemon with the modems and measure draining")
	fs.BoolVar(&sc.Capture, "capture", true, "relay each modem through a pty that counts AT commands and busy time")
	fs.StringVar(&sc.Binary, "daemon", "", "gsmbridge binary to run as the daemon (default: this one)")
	fs.DurationVar(&timeout, "timeout", timeout, "give up after this long")
	fs.IntVar(&sc.Hosts, "fleet", 0, "run this many hosts joined through NATS JetStream, each on --modems modems, then the same load per host on one host alone")
	natsURLs := fs.String("nats", "", "with --fleet: comma-separated URLs of the JetStream cluster to use (default: a 3-node cluster in this process, in a build with -tags fleetdemo)")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case sc.Modems < 1 || sc.Modems > 64:
		return usageError{"--modems must be 1..64"}
	case sc.Latency < 0:
		return usageError{"--latency must not be negative"}
	case sc.Duration == 0 && (sc.Messages < 1 || sc.Messages > 100000):
		return usageError{"--messages must be 1..100000"}
	case sc.Duration < 0 || sc.Duration > time.Hour:
		return usageError{"--duration must be at most 1h"}
	case sc.Concurrency < 1 || sc.Concurrency > 256:
		return usageError{"--concurrency must be 1..256"}
	case sc.Parts < 1 || sc.Parts > 10:
		return usageError{"--parts must be 1..10"}
	case sc.Rate < 0:
		return usageError{"--rate must not be negative"}
	case sc.QueueFirst && sc.Duration > 0:
		return usageError{"--queue-first needs --messages, not --duration"}
	case sc.Hosts < 0 || sc.Hosts > 9:
		return usageError{"--fleet must be 1..9 hosts"}
	case sc.Hosts > 0 && sc.QueueFirst:
		return usageError{"--queue-first measures one host draining its own queue; leave it out with --fleet"}
	case sc.Hosts == 0 && *natsURLs != "":
		return usageError{"--nats needs --fleet"}
	}
	if sc.Duration > 0 {
		sc.Messages = 0
	}
	if sc.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this executable to run as the daemon: %w", err)
		}
		sc.Binary = exe
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	run := sc.Run
	if sc.Hosts > 0 {
		if *natsURLs != "" {
			sc.NATS = strings.Split(*natsURLs, ",")
		} else {
			dir, err := os.MkdirTemp("", "gsmbridge-bench-nats-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			urls, stop, err := startEmbeddedNATS(dir, 3)
			if err != nil {
				return fmt.Errorf("--fleet without --nats: %w; or give --nats with the URLs of a running JetStream cluster", err)
			}
			defer stop()
			sc.NATS = urls
		}
		run = sc.RunFleet
	}
	rep, err := run(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.Print(stdout)
	return nil
}
