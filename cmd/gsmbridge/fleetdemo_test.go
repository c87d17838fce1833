package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/client"
	"github.com/gsmbridge/gsmbridge/internal/bench"
)

// The one-command demo, as the README gives it: a message accepted on the
// first host is read back, as sent, on the second; Ctrl-C stops it all.
func TestFleetDemoServesOneMessageAcrossHosts(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	bin := buildGsmbridge(t, "fleetdemo")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.Command(bin, "fleet-demo", "--base-port", "0", "--json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		exited <- cmd.Wait()
	}()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	var demo fleetDemo
	select {
	case line := <-lines:
		if err := json.Unmarshal([]byte(line), &demo); err != nil {
			t.Fatalf("demo said %q: %v", line, err)
		}
	case err := <-exited:
		t.Fatalf("demo exited before it was ready: %v\n%s", err, stderr.String())
	case <-ctx.Done():
		t.Fatalf("demo not ready: %v\n%s", ctx.Err(), stderr.String())
	}
	if len(demo.NATS) != 3 || len(demo.Hosts) != 3 {
		t.Fatalf("demo runs %d NATS nodes and %d hosts, want 3 and 3: %+v", len(demo.NATS), len(demo.Hosts), demo)
	}
	one, two := demoClient(t, demo.Hosts[0].URL), demoClient(t, demo.Hosts[1].URL)
	const text = "Платёж 1500.00 получен"
	m, err := one.Messages.Send(ctx, api.NewMessage{To: "+79031110003", Text: text}, "")
	if err != nil || m.State != api.MessageQueued {
		t.Fatalf("POST to host1: %+v %v", m, err)
	}
	for {
		got, err := two.Messages.Get(ctx, m.ID)
		if err == nil && got.Text == text && (got.State == api.MessageSent || got.State == api.MessageDelivered) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("host2 reads %s as %+v (%v)\n%s", m.ID, got, err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond) // polling the API as a client would
	}
	// A Ctrl-C at the terminal reaches the demo alone (its hosts have
	// their own process group), and the demo stops them and the cluster.
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		exited <- err // for the deferred Kill
		if err != nil {
			t.Fatalf("demo exit after Ctrl-C: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("demo still running 60s after Ctrl-C\n%s", stderr.String())
	}
	if _, err := one.Messages.Get(context.Background(), m.ID); err == nil {
		t.Error("host1 still answers after the demo stopped")
	}
}

func demoClient(t *testing.T, url string) *client.Client {
	t.Helper()
	c, err := client.New(url, client.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// The production binary links no NATS server: its demo and an embedded
// fleet bench refuse with what to do instead (exit 1), while a bench on a
// given cluster is accepted as far as flags go.
func TestProductionBinaryCarriesNoNATSServer(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no Go toolchain to list the binary's packages with")
	}
	for _, tc := range []struct {
		tags string
		want bool
	}{{"", false}, {"fleetdemo", true}} {
		out, err := exec.Command(goTool, "list", "-tags", tc.tags, "-deps", ".").Output()
		if err != nil {
			t.Fatalf("go list -tags %q: %v", tc.tags, err)
		}
		if got := strings.Contains(string(out), "github.com/nats-io/nats-server/"); got != tc.want {
			t.Errorf("build with tags %q links nats-server: %v, want %v", tc.tags, got, tc.want)
		}
	}
	for _, args := range [][]string{{"fleet-demo"}, {"bench", "--fleet", "3"}} {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), args, &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "-tags fleetdemo") {
			t.Errorf("%v: exit %d, stderr %q; want 1 and how to build the demo", args, code, stderr.String())
		}
		if args[0] == "bench" && !strings.Contains(stderr.String(), "--nats") {
			t.Errorf("bench --fleet without a cluster does not point at --nats: %q", stderr.String())
		}
	}
}

// A tiny fleet bench through the binary with the embedded cluster: every
// message sent once, by some host, with the figures of each host and of
// the same load on one host alone.
func TestBenchFleetTinyScenario(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	bin := buildGsmbridge(t, "fleetdemo")
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "bench", "--fleet", "3", "--modems", "1", "--messages", "12",
		"--latency", "20ms", "--concurrency", "3", "--json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench --fleet: %v\n%s", err, stderr.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("decode %s: %v", stdout.String(), err)
	}
	counts := []struct {
		what      string
		got, want int
	}{
		{"hosts", rep.Hosts, 3},
		{"NATS nodes", rep.NATSNodes, 3},
		{"accepted", rep.Accepted, 12},
		{"refused", rep.Refused, 0},
		{"messages sent", rep.SentMessages, 12},
		{"SMS sent", rep.SentParts, 12},
		{"duplicates", rep.Duplicates, 0},
		{"AT+CMGS seen on the wire", rep.Commands["AT+CMGS="], 12},
		{"hosts reported", len(rep.PerHost), 3},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	sum := 0
	for _, h := range rep.PerHost {
		sum += h.SentParts
		if h.CPUSeconds < 0 || h.PeakRSSMB < 5 {
			t.Errorf("host %+v", h)
		}
	}
	if sum != 12 {
		t.Errorf("the hosts sent %d SMS between them, want 12", sum)
	}
	// Three modems answering in 20ms cannot take more than 150 SMS/s.
	if rep.IdealPerS != 150 || rep.SentPerS <= 0 || rep.SentPerS > 1.01*rep.IdealPerS {
		t.Errorf("sent %v/s against an ideal of %v/s", rep.SentPerS, rep.IdealPerS)
	}
	if rep.LatencyP50MS == nil || *rep.LatencyP50MS <= 0 || *rep.LatencyP50MS > *rep.LatencyP99MS {
		t.Errorf("latencies p50 %v p99 %v", rep.LatencyP50MS, rep.LatencyP99MS)
	}
	s := rep.Single
	if s == nil || s.Hosts != 0 || s.Modems != 1 || s.SentParts != 4 || s.Duplicates != 0 || s.CPUPerSMSMS <= 0 {
		t.Fatalf("the same load on one host: %+v", s)
	}
	if rep.CPUVsSingle <= 0 {
		t.Errorf("fleet CPU per SMS against one host's: %v", rep.CPUVsSingle)
	}
}
