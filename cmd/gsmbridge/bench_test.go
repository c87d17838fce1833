package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gsmbridge/gsmbridge/internal/bench"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/service"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// buildGsmbridge builds this command into a temporary directory, so that
// tests run the daemon as the real binary in its own process; tags name
// build tags (fleetdemo for the binary with the embedded NATS server).
func buildGsmbridge(t *testing.T, tags ...string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no Go toolchain to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "gsmbridge")
	// -buildvcs=auto overrides a GOFLAGS=-buildvcs=false, so that the binary
	// carries its commit where Go can read one (a .git directory, not a
	// worktree's .git file).
	args := []string{"build", "-buildvcs=auto", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	out, err := exec.Command(goTool, append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestRunBenchTinyScenario(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	bin := buildGsmbridge(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	const latency = 20 * time.Millisecond
	err := runBench(ctx, []string{"--daemon", bin, "--modems", "2", "--messages", "20", "--latency", latency.String(),
		"--concurrency", "4", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("runBench: %v\n%s", err, errOut.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("decode %s: %v", out.String(), err)
	}
	counts := []struct {
		what      string
		got, want int
	}{
		{"accepted", rep.Accepted, 20},
		{"refused", rep.Refused, 0},
		{"messages sent", rep.SentMessages, 20},
		{"SMS sent", rep.SentParts, 20},
		{"duplicates", rep.Duplicates, 0},
		{"AT+CMGS seen on the wire", rep.Commands["AT+CMGS="], 20},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	if rep.ATPerSMS != 1.0 {
		t.Errorf("AT commands per SMS %v, want 1.0 (commands %v)", rep.ATPerSMS, rep.Commands)
	}
	// Two modems answering in 20ms cannot take more than 100 SMS/s.
	if rep.SentPerS <= 0 || rep.SentPerS > 1.01*rep.IdealPerS || rep.IdealPerS != 100 {
		t.Errorf("sent %v/s against an ideal of %v/s", rep.SentPerS, rep.IdealPerS)
	}
	if rep.LatencyP50MS == nil || *rep.LatencyP50MS <= 0 || *rep.LatencyP50MS > *rep.LatencyP99MS || *rep.LatencyP99MS > *rep.LatencyMaxMS {
		t.Errorf("latencies p50 %v p99 %v max %v", rep.LatencyP50MS, rep.LatencyP99MS, rep.LatencyMaxMS)
	}
	if len(rep.Utilisation) != 2 {
		t.Errorf("utilisation of %d modems, want 2", len(rep.Utilisation))
	}
	for _, u := range rep.Utilisation {
		if u <= 0 || u > 1 {
			t.Errorf("utilisation %v outside (0, 1]", u)
		}
	}
	if rep.CPUSeconds <= 0 || rep.CPUTotalSeconds < rep.CPUSeconds || rep.PeakRSSMB < 5 || rep.PeakRSSMB > 500 {
		t.Errorf("daemon CPU %vs (total %vs), peak RSS %v MB", rep.CPUSeconds, rep.CPUTotalSeconds, rep.PeakRSSMB)
	}
	// Each SMS is accepted, begun and recorded sent: at most three
	// commits, fewer where writes share them.
	if rep.CommitsPerSMS <= 0 || rep.CommitsPerSMS > 3 {
		t.Errorf("store commits per SMS %v, want (0, 3]", rep.CommitsPerSMS)
	}
}

// BenchmarkSendPathInProcess runs the daemon in this process over instant
// simulated modems, so that `go test -bench SendPath -cpuprofile` shows where
// the daemon spends its time per SMS. One op is one accepted and sent SMS.
func BenchmarkSendPathInProcess(b *testing.B) {
	for _, modems := range []int{1, 16} {
		b.Run(fmt.Sprintf("modems=%d", modems), func(b *testing.B) { benchSendPath(b, modems) })
	}
}

func benchSendPath(b *testing.B, modems int) {
	network, err := modemsim.NewNetwork(modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer network.Close()
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = b.TempDir()
	cfg.Balance.Interval, cfg.Balance.Stagger = 1000*time.Hour, 999*time.Hour
	cfg.SIMs = map[string]config.SIM{}
	var sims []*modemsim.Modem
	for range modems {
		m, err := network.AddModem(modemsim.ModemConfig{Dialect: modemsim.Generic, NoisePeriod: -1})
		if err != nil {
			b.Fatal(err)
		}
		sims = append(sims, m)
		cfg.Modems = append(cfg.Modems, config.Modem{Port: m.Path(), Baud: 115200})
		cfg.SIMs[m.Config().ICCID] = config.SIM{Limits: config.Limits{PerMinute: -1, PerHour: -1, PerDay: -1}}
	}
	d, err := service.New(cfg, service.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for ready := 0; ready < modems; {
		ready = 0
		for _, st := range d.Modems() {
			if st.State == service.StateReady {
				ready++
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d modems ready", ready, modems)
		}
		time.Sleep(10 * time.Millisecond) // polling a snapshot, not synchronising
	}
	url := "http://" + ln.Addr().String() + "/v1/messages"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	defer client.CloseIdleConnections()
	sentBefore := 0
	for _, m := range sims {
		sentBefore += len(m.Record().Sent())
	}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				body := fmt.Sprintf(`{"to":"+79990000000","text":%q}`, bench.Text(i, 1))
				resp, err := client.Post(url, "application/json", strings.NewReader(body))
				if err != nil {
					b.Error(err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					b.Errorf("POST: %d", resp.StatusCode)
				}
			}
		}()
	}
	for i := range b.N {
		work <- i
	}
	close(work)
	wg.Wait()
	for {
		sent := -sentBefore
		for _, m := range sims {
			sent += len(m.Record().Sent())
		}
		if sent >= b.N {
			break
		}
		if time.Now().After(deadline.Add(time.Duration(b.N) * 50 * time.Millisecond)) {
			b.Fatalf("%d of %d sent", sent, b.N)
		}
		time.Sleep(5 * time.Millisecond) // polling the simulator's record
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sms/s")
}
