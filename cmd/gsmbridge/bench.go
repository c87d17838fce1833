package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"gopkg.in/yaml.v3"

	"github.com/gsmbridge/gsmbridge/hw"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// benchScenario is one load run: simulated modems in this process, the
// daemon as a child process so that its CPU time and memory are its own.
type benchScenario struct {
	modems      int
	latency     time.Duration // AT+CMGS answer time
	messages    int
	duration    time.Duration // accept for this long instead of a count
	concurrency int
	rate        float64 // accepts per second; 0 = as fast as the clients go
	parts       int
	queueFirst  bool
	capture     bool
	daemon      string // binary that runs "serve"; "" = this executable
	timeout     time.Duration
}

// benchReport holds the figures of one run.
type benchReport struct {
	Modems      int     `json:"modems"`
	LatencyMS   float64 `json:"cmgs_latency_ms"`
	Parts       int     `json:"parts_per_message"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate_per_s,omitempty"`
	QueueFirst  bool    `json:"queue_first"`

	Accepted     int `json:"accepted"`
	Refused      int `json:"refused"`
	SentMessages int `json:"sent_messages"`
	SentParts    int `json:"sent_parts"`
	Duplicates   int `json:"duplicate_parts"`

	AcceptSeconds float64 `json:"accept_seconds"`
	AcceptedPerS  float64 `json:"accepted_per_s"`
	SendSeconds   float64 `json:"send_seconds"`
	SentPerS      float64 `json:"sent_parts_per_s"`
	IdealPerS     float64 `json:"ideal_parts_per_s,omitempty"`
	OfIdeal       float64 `json:"of_ideal,omitempty"`

	// Accept→AT+CMGS: from the moment the client started the POST to the
	// moment the first part's AT+CMGS reached the modem (LatencyTo says
	// how that was seen). Absent with --queue-first, where waiting in the
	// queue is the point.
	LatencyTo    string   `json:"accept_to_cmgs_measured_at,omitempty"`
	LatencyP50MS *float64 `json:"accept_to_cmgs_p50_ms,omitempty"`
	LatencyP99MS *float64 `json:"accept_to_cmgs_p99_ms,omitempty"`
	LatencyMaxMS *float64 `json:"accept_to_cmgs_max_ms,omitempty"`

	// From the wire capture (--capture): time each modem spent between a
	// command and its final result, over the send window.
	Utilisation []float64      `json:"modem_utilisation,omitempty"`
	Commands    map[string]int `json:"at_commands,omitempty"`
	ATPerSMS    float64        `json:"at_commands_per_sms,omitempty"`
	// Background are commands of scheduled work that is not sending (the
	// USSD balance check), left out of ATPerSMS.
	Background map[string]int `json:"background_at_commands,omitempty"`

	CPUSeconds      float64 `json:"daemon_cpu_seconds"` // during the send window
	CPUTotalSeconds float64 `json:"daemon_cpu_total_seconds"`
	CPUPerSMSMS     float64 `json:"daemon_cpu_ms_per_sms"`
	PeakRSSMB       float64 `json:"daemon_peak_rss_mb"`
	LoadAvg         string  `json:"loadavg"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stdout, help{
		synopsis: "[flags]",
		about: "Starts simulated modems and a daemon of its own (this binary, or --daemon), posts\n" +
			"messages at it over HTTP and prints throughput, latency percentiles, CPU, memory and\n" +
			"modem busy time. It touches no real modem and no running daemon.",
		examples: []string{
			"gsmbridge bench --modems 4 --messages 1000 --concurrency 16",
			"gsmbridge bench --modems 2 --duration 1m --rate 5 --json",
		},
	})
	var sc benchScenario
	fs.IntVar(&sc.modems, "modems", 1, "simulated modems")
	fs.DurationVar(&sc.latency, "latency", 500*time.Millisecond, "how long each modem takes to answer AT+CMGS (0 = at once)")
	fs.IntVar(&sc.messages, "messages", 100, "messages to accept (ignored with --duration)")
	fs.DurationVar(&sc.duration, "duration", 0, "accept messages for this long instead of a count")
	fs.IntVar(&sc.concurrency, "concurrency", 4, "HTTP clients posting at once")
	fs.Float64Var(&sc.rate, "rate", 0, "accepts per second across all clients (0 = as fast as they go); a low rate finds the modems idle")
	fs.IntVar(&sc.parts, "parts", 1, "SMS parts per message")
	fs.BoolVar(&sc.queueFirst, "queue-first", false, "accept every message with no modem attached, then restart the daemon with the modems and measure draining")
	fs.BoolVar(&sc.capture, "capture", true, "relay each modem through a pty that counts AT commands and busy time")
	fs.StringVar(&sc.daemon, "daemon", "", "gsmbridge binary to run as the daemon (default: this one)")
	fs.DurationVar(&sc.timeout, "timeout", 10*time.Minute, "give up after this long")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(pos); err != nil {
		return err
	}
	switch {
	case sc.modems < 1 || sc.modems > 64:
		return usageError{"--modems must be 1..64"}
	case sc.latency < 0:
		return usageError{"--latency must not be negative"}
	case sc.duration == 0 && (sc.messages < 1 || sc.messages > 100000):
		return usageError{"--messages must be 1..100000"}
	case sc.duration < 0 || sc.duration > time.Hour:
		return usageError{"--duration must be at most 1h"}
	case sc.concurrency < 1 || sc.concurrency > 256:
		return usageError{"--concurrency must be 1..256"}
	case sc.parts < 1 || sc.parts > 10:
		return usageError{"--parts must be 1..10"}
	case sc.rate < 0:
		return usageError{"--rate must not be negative"}
	case sc.queueFirst && sc.duration > 0:
		return usageError{"--queue-first needs --messages, not --duration"}
	}
	if sc.duration > 0 {
		sc.messages = 0
	}
	if sc.daemon == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this executable to run as the daemon: %w", err)
		}
		sc.daemon = exe
	}
	ctx, cancel := context.WithTimeout(ctx, sc.timeout)
	defer cancel()
	rep, err := sc.run(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.print(stdout)
	return nil
}

// run brings up the modems and the daemon, applies the load and collects
// the figures.
func (sc benchScenario) run(ctx context.Context) (*benchReport, error) {
	rep := &benchReport{Modems: sc.modems, LatencyMS: benchMS(sc.latency), Parts: sc.parts, Concurrency: sc.concurrency,
		Rate: sc.rate, QueueFirst: sc.queueFirst}
	tmp, err := os.MkdirTemp("", "gsmbridge-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	dataDir := filepath.Join(tmp, "data")

	network, err := modemsim.NewNetwork(modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	defer network.Close()
	var modems []*modemsim.Modem
	var ports []string
	var taps []*wireTap
	defer func() {
		for _, t := range taps {
			t.close()
		}
	}()
	for range sc.modems {
		m, err := network.AddModem(modemsim.ModemConfig{Dialect: modemsim.Generic, NoisePeriod: -1})
		if err != nil {
			return nil, err
		}
		// The simulator answers the PDU after latency; the prompt comes at once.
		m.SetLatency("AT+CMGS", sc.latency)
		modems = append(modems, m)
		port := m.Path()
		if sc.capture {
			t, err := newWireTap(m.Path())
			if err != nil {
				return nil, err
			}
			taps = append(taps, t)
			port = t.path()
		}
		ports = append(ports, port)
	}

	load := newBenchLoad(sc)
	if sc.queueFirst {
		// Accepting needs no modem: the first daemon has none, so that
		// every message is queued before any is sent.
		if err := sc.acceptWithoutModems(ctx, tmp, dataDir, load); err != nil {
			return nil, err
		}
	}
	cfgPath := filepath.Join(tmp, "gsmbridge.yaml")
	if err := writeBenchConfig(cfgPath, dataDir, ports, modems, nil); err != nil {
		return nil, err
	}
	if sc.queueFirst {
		// The queue drains from the moment the first modem is ready, so
		// the wire is watched from the start, set-up commands included.
		for _, t := range taps {
			t.count(true)
		}
	}
	d, err := startChildDaemon(ctx, sc.daemon, cfgPath, dataDir, filepath.Join(tmp, "daemon.log"))
	if err != nil {
		return nil, err
	}
	defer d.kill()
	if err := d.waitReady(ctx, sc.modems); err != nil {
		return nil, err
	}
	// The daemon checks each SIM's balance by USSD soon after start-up; the
	// session pauses the modem's sending, so the load waits for it.
	var iccids []string
	for _, m := range modems {
		iccids = append(iccids, m.Config().ICCID)
	}
	var cpuStart time.Duration
	if !sc.queueFirst {
		d.waitBalanceChecks(ctx, iccids, 10*time.Second)
		if cpuStart, _, err = d.usage(); err != nil {
			return nil, err
		}
	}
	for _, t := range taps {
		t.count(true)
	}
	windowStart := time.Now()
	if sc.queueFirst {
		windowStart = time.Time{} // from the first PDU: the modems were idle until the daemon loaded its queue
	} else {
		load.post(ctx, d.url)
	}
	sends, err := waitDrained(ctx, d, modems, load.acceptedCount()*sc.parts, sc)
	if err != nil {
		return nil, err
	}
	// The last PDU is in; its answer follows.
	windowEnd := waitAnswered(ctx, taps, sc.latency)
	for _, t := range taps {
		t.count(false)
	}
	cpuEnd, hwm, err := d.usage()
	if err != nil {
		return nil, err
	}
	if err := d.stop(15 * time.Second); err != nil {
		return nil, err
	}
	cpuAll, _ := d.lastUsage()

	rep.Accepted, rep.Refused = load.acceptedCount(), int(load.refused.Load())
	rep.AcceptSeconds = load.acceptSpan().Seconds()
	if rep.AcceptSeconds > 0 {
		rep.AcceptedPerS = float64(rep.Accepted) / rep.AcceptSeconds
	}
	var cmgs [][]time.Time
	if sc.capture {
		rep.LatencyTo = "AT+CMGS on the modem's wire"
		for _, t := range taps {
			cmgs = append(cmgs, t.sendTimes())
		}
	} else {
		rep.LatencyTo = "PDU at the simulated modem"
	}
	sc.summariseSends(rep, load, sends, cmgs, windowStart, windowEnd)
	if rep.SendSeconds > 0 && sc.capture {
		rep.Commands, rep.Background = map[string]int{}, map[string]int{}
		total := 0
		for _, t := range taps {
			busy, cmds := t.figures()
			rep.Utilisation = append(rep.Utilisation, benchRound(busy.Seconds()/rep.SendSeconds))
			for k, v := range cmds {
				if isBalanceCheck(k) {
					rep.Background[k] += v
					continue
				}
				rep.Commands[k] += v
				total += v
			}
		}
		if rep.SentParts > 0 {
			rep.ATPerSMS = benchRound(float64(total) / float64(rep.SentParts))
		}
	}
	rep.CPUSeconds = benchRound((cpuEnd - cpuStart).Seconds())
	rep.CPUTotalSeconds = benchRound(cpuAll.Seconds())
	if rep.SentParts > 0 {
		rep.CPUPerSMSMS = benchRound(1000 * rep.CPUSeconds / float64(rep.SentParts))
	}
	rep.PeakRSSMB = benchRound(float64(hwm) / 1024)
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return rep, nil
}

// acceptWithoutModems runs a daemon with no modems and posts every message
// to it, then stops it cleanly.
func (sc benchScenario) acceptWithoutModems(ctx context.Context, tmp, dataDir string, load *benchLoad) error {
	cfgPath := filepath.Join(tmp, "accept.yaml")
	if err := writeBenchConfig(cfgPath, dataDir, nil, nil, nil); err != nil {
		return err
	}
	d, err := startChildDaemon(ctx, sc.daemon, cfgPath, dataDir, filepath.Join(tmp, "accept.log"))
	if err != nil {
		return err
	}
	defer d.kill()
	load.post(ctx, d.url)
	return d.stop(15 * time.Second)
}

// writeBenchConfig writes a daemon configuration for the bench: loopback on
// a free port, the SIMs' send limits lifted, balance checks out of the way;
// extra sets or replaces top-level keys for the tests that need more.
func writeBenchConfig(path, dataDir string, ports []string, modems []*modemsim.Modem, extra map[string]any) error {
	listen, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	mods := []map[string]any{}
	for _, p := range ports {
		mods = append(mods, map[string]any{"port": p, "baud": 115200})
	}
	sims := map[string]any{}
	for _, m := range modems {
		sims[m.Config().ICCID] = map[string]any{"limits": map[string]int{"per_minute": -1, "per_hour": -1, "per_day": -1}}
	}
	cfg := map[string]any{
		"listen":   listen,
		"data_dir": dataDir,
		"log":      map[string]string{"level": "warn"},
		"modems":   mods,
		"sims":     sims,
		"send":     map[string]string{"default_ttl": "72h"},
		"balance":  map[string]string{"interval": "1000h", "stagger": "999h"},
	}
	maps.Copy(cfg, extra)
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// freeLoopbackAddr finds a port for the daemon: the configuration wants a
// real one, and the kernel picks one that is free now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// benchText is message i's text: unique, so every PDU the simulator sees
// can be traced to the POST that asked for it, and exactly parts SMS long.
func benchText(i, parts int) string {
	prefix := fmt.Sprintf("bench%07d ", i)
	if parts == 1 {
		return prefix + "payment confirmed"
	}
	// GSM 7-bit: 153 characters per concatenated part.
	return prefix + strings.Repeat("x", 153*(parts-1)+20-len(prefix))
}

// benchIndex reads i back from the text of a first part.
func benchIndex(text string) (int, bool) {
	if len(text) < 12 || !strings.HasPrefix(text, "bench") {
		return 0, false
	}
	i, err := strconv.Atoi(text[5:12])
	return i, err == nil
}

// benchLoad posts the messages and remembers when each POST began.
type benchLoad struct {
	sc       benchScenario
	next     atomic.Int64
	refused  atomic.Int64
	mu       sync.Mutex
	started  map[int]time.Time // accepted messages: when their POST began
	first    time.Time
	lastDone time.Time
}

func newBenchLoad(sc benchScenario) *benchLoad {
	return &benchLoad{sc: sc, started: map[int]time.Time{}}
}

func (l *benchLoad) acceptedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.started)
}

func (l *benchLoad) acceptSpan() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastDone.Sub(l.first)
}

// post runs the clients until the count or the duration is reached.
func (l *benchLoad) post(ctx context.Context, base string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: l.sc.concurrency}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	begin := time.Now()
	var wg sync.WaitGroup
	for range l.sc.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(l.next.Add(1) - 1)
				if l.sc.messages > 0 && i >= l.sc.messages {
					return
				}
				if l.sc.duration > 0 && time.Since(begin) >= l.sc.duration {
					return
				}
				if l.sc.rate > 0 {
					due := begin.Add(time.Duration(float64(i) / l.sc.rate * float64(time.Second)))
					select {
					case <-time.After(time.Until(due)):
					case <-ctx.Done():
						return
					}
				}
				l.postOne(ctx, client, base, i)
			}
		}()
	}
	wg.Wait()
}

func (l *benchLoad) postOne(ctx context.Context, client *http.Client, base string, i int) {
	body, _ := json.Marshal(map[string]string{"to": "+79990000000", "text": benchText(i, l.sc.parts)})
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/v1/messages", bytes.NewReader(body))
	if err != nil {
		l.refused.Add(1)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		l.refused.Add(1)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	done := time.Now()
	if resp.StatusCode != http.StatusAccepted {
		l.refused.Add(1)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.started[i] = start
	if l.first.IsZero() || start.Before(l.first) {
		l.first = start
	}
	if done.After(l.lastDone) {
		l.lastDone = done
	}
}

// waitDrained waits until the simulated modems have taken want PDUs and
// returns what each took.
func waitDrained(ctx context.Context, d *childDaemon, modems []*modemsim.Modem, want int, sc benchScenario) ([][]modemsim.SentSMS, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		sends := make([][]modemsim.SentSMS, len(modems))
		got := 0
		for i, m := range modems {
			sends[i] = m.Sent()
			got += len(sends[i])
		}
		if got >= want {
			return sends, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%d of %d SMS sent when the bench gave up: %w", got, want, ctx.Err())
		case err := <-d.exited:
			return nil, fmt.Errorf("daemon exited with %d of %d SMS sent: %v\n%s", got, want, err, d.logTail())
		case <-tick.C:
		}
	}
}

// waitAnswered waits until every tapped modem answered its last command
// and returns when the last answer came; zero without taps.
func waitAnswered(ctx context.Context, taps []*wireTap, latency time.Duration) time.Time {
	ctx, cancel := context.WithTimeout(ctx, latency+5*time.Second)
	defer cancel()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		var end time.Time
		idle := true
		for _, t := range taps {
			done, ok := t.idleSince()
			idle = idle && ok
			if done.After(end) {
				end = done
			}
		}
		if idle {
			return end
		}
		select {
		case <-ctx.Done():
			return time.Now()
		case <-tick.C:
		}
	}
}

// summariseSends matches the PDUs the modems took with the POSTs.
// cmgs holds, per modem, when each AT+CMGS reached it (nil without the
// wire tap: the PDU's arrival is used instead).
func (sc benchScenario) summariseSends(rep *benchReport, load *benchLoad, sends [][]modemsim.SentSMS, cmgs [][]time.Time, windowStart, windowEnd time.Time) {
	type partKey struct{ msg, part int }
	seen := map[partKey]int{}
	firstCmd := map[int]time.Time{}
	var first, last time.Time
	for mi, list := range sends {
		refs := map[int]int{} // concatenation reference → message, per modem
		for k, s := range list {
			if first.IsZero() || s.Time.Before(first) {
				first = s.Time
			}
			if s.Time.After(last) {
				last = s.Time
			}
			if s.Part == 1 {
				if i, ok := benchIndex(s.Text); ok {
					refs[s.ConcatRef] = i
					firstCmd[i] = s.Time
					if cmgs != nil && k < len(cmgs[mi]) {
						firstCmd[i] = cmgs[mi][k]
					}
				}
			}
		}
		for _, s := range list {
			i, ok := refs[s.ConcatRef]
			if s.Parts == 1 {
				i, ok = benchIndex(s.Text)
			}
			if !ok {
				i = -1 - mi // unmatched: counted, never a duplicate of a match
			}
			seen[partKey{i, s.Part}]++
		}
	}
	full := map[int]int{}
	for k, n := range seen {
		rep.SentParts += n
		rep.Duplicates += n - 1
		if k.msg >= 0 {
			full[k.msg]++
		}
	}
	for _, n := range full {
		if n == sc.parts {
			rep.SentMessages++
		}
	}
	if windowStart.IsZero() {
		windowStart = first
	}
	if windowEnd.IsZero() {
		// Without the tap: when the last PDU's answer was due.
		windowEnd = last.Add(sc.latency)
	}
	if span := windowEnd.Sub(windowStart); span > 0 && rep.SentParts > 0 {
		rep.SendSeconds = benchRound(span.Seconds())
		rep.SentPerS = benchRound(float64(rep.SentParts) / span.Seconds())
		if sc.latency > 0 {
			rep.IdealPerS = float64(sc.modems) / sc.latency.Seconds()
			rep.OfIdeal = benchRound(rep.SentPerS / rep.IdealPerS)
		}
	}
	if sc.queueFirst {
		return
	}
	var lats []float64
	load.mu.Lock()
	for i, start := range load.started {
		if t, ok := firstCmd[i]; ok {
			lats = append(lats, benchMS(t.Sub(start)))
		}
	}
	load.mu.Unlock()
	if len(lats) == 0 {
		return
	}
	sort.Float64s(lats)
	p50, p99, mx := benchPercentile(lats, 0.50), benchPercentile(lats, 0.99), lats[len(lats)-1]
	rep.LatencyP50MS, rep.LatencyP99MS, rep.LatencyMaxMS = &p50, &p99, &mx
}

// benchPercentile is the nearest-rank percentile of sorted values.
func benchPercentile(sorted []float64, p float64) float64 {
	k := int(math.Ceil(p*float64(len(sorted)))) - 1
	return benchRound(sorted[max(0, min(k, len(sorted)-1))])
}

func benchMS(d time.Duration) float64 { return benchRound(float64(d) / float64(time.Millisecond)) }

func benchRound(v float64) float64 { return math.Round(v*1000) / 1000 }

func (r *benchReport) print(w io.Writer) {
	mode := "posted while sending"
	if r.QueueFirst {
		mode = "all queued before sending"
	}
	fmt.Fprintf(w, "gsmbridge bench: %d modem(s), AT+CMGS answered in %gms, %d-part messages, %d client(s), %s\n",
		r.Modems, r.LatencyMS, r.Parts, r.Concurrency, mode)
	fmt.Fprintf(w, "  accepted         %d in %.2fs = %.1f/s (refused %d)\n", r.Accepted, r.AcceptSeconds, r.AcceptedPerS, r.Refused)
	fmt.Fprintf(w, "  sent             %d SMS (%d messages) in %.2fs = %.2f SMS/s", r.SentParts, r.SentMessages, r.SendSeconds, r.SentPerS)
	if r.IdealPerS > 0 {
		fmt.Fprintf(w, " = %.1f%% of the ideal %.2f/s", 100*r.OfIdeal, r.IdealPerS)
	}
	fmt.Fprintf(w, "; duplicates %d\n", r.Duplicates)
	if r.LatencyP50MS != nil {
		fmt.Fprintf(w, "  accept→AT+CMGS   p50 %.2fms  p99 %.2fms  max %.2fms (POST start to %s)\n", *r.LatencyP50MS, *r.LatencyP99MS, *r.LatencyMaxMS, r.LatencyTo)
	}
	if len(r.Utilisation) > 0 {
		sum, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
		for _, u := range r.Utilisation {
			sum += u
			lo, hi = min(lo, u), max(hi, u)
		}
		fmt.Fprintf(w, "  modem busy       %.1f%% mean (%.1f%% .. %.1f%%)\n", 100*sum/float64(len(r.Utilisation)), 100*lo, 100*hi)
	}
	if r.Commands != nil {
		names := make([]string, 0, len(r.Commands))
		for k := range r.Commands {
			names = append(names, k)
		}
		sort.Strings(names)
		var parts []string
		for _, k := range names {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.Commands[k]))
		}
		fmt.Fprintf(w, "  AT commands      %.3f per SMS (%s)\n", r.ATPerSMS, strings.Join(parts, ", "))
	}
	if len(r.Background) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.Background)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.Background[k]))
		}
		fmt.Fprintf(w, "  not per SMS      %s (the scheduled USSD balance check)\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "  daemon           %.2fs CPU while sending (%.2fms per SMS), %.2fs in all; peak RSS %.1f MB\n",
		r.CPUSeconds, r.CPUPerSMSMS, r.CPUTotalSeconds, r.PeakRSSMB)
	fmt.Fprintf(w, "  load average     %s\n", r.LoadAvg)
}

// childDaemon is `gsmbridge serve` running as a child process.
type childDaemon struct {
	cmd     *exec.Cmd
	url     string
	logPath string
	exited  chan error // receives Wait's result once
	waitErr error
	waited  bool
}

// startChildDaemon starts `bin serve` and waits until it listens. The child
// is killed if this process dies, so a crashed bench leaves no daemon behind.
func startChildDaemon(ctx context.Context, bin, cfgPath, dataDir, logPath string) (*childDaemon, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "serve", "--config", cfgPath, "--data-dir", dataDir)
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start daemon %s: %w", bin, err)
	}
	d := &childDaemon{cmd: cmd, logPath: logPath, exited: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "listening on "); ok {
				addr <- strings.TrimSpace(u)
				break
			}
		}
		io.Copy(io.Discard, out)
		// Wait only after stdout is drained, as os/exec requires.
		d.exited <- cmd.Wait()
	}()
	select {
	case d.url = <-addr:
		return d, nil
	case err := <-d.exited:
		d.waited, d.waitErr = true, err
		return nil, fmt.Errorf("daemon exited before listening (%v):\n%s", err, d.logTail())
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
	}
	d.kill()
	return nil, fmt.Errorf("daemon did not start listening:\n%s", d.logTail())
}

// waitReady waits until n modems report ready.
func (d *childDaemon) waitReady(ctx context.Context, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var out struct {
			Modems []struct{ State string }
		}
		if req, err := http.NewRequestWithContext(ctx, "GET", d.url+"/v1/modems", nil); err == nil {
			if resp, err := client.Do(req); err == nil {
				json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
			}
		}
		ready := 0
		for _, m := range out.Modems {
			if m.State == "ready" {
				ready++
			}
		}
		if ready == n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d modems ready: %w\n%s", ready, n, ctx.Err(), d.logTail())
		case err := <-d.exited:
			d.waited, d.waitErr = true, err
			return fmt.Errorf("daemon exited (%v):\n%s", err, d.logTail())
		case <-tick.C:
		}
	}
}

// waitBalanceChecks waits, at most bound, until every SIM had its first
// balance check.
func (d *childDaemon) waitBalanceChecks(ctx context.Context, iccids []string, bound time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for _, iccid := range iccids {
		for {
			var v struct {
				LastCheck json.RawMessage `json:"last_check"`
			}
			if req, err := http.NewRequestWithContext(ctx, "GET", d.url+"/v1/sims/"+iccid+"/balance", nil); err == nil {
				if resp, err := client.Do(req); err == nil {
					json.NewDecoder(resp.Body).Decode(&v)
					resp.Body.Close()
				}
			}
			if len(v.LastCheck) > 0 && string(v.LastCheck) != "null" {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}
}

// usage reads the child's CPU time (user+system) and peak resident set.
func (d *childDaemon) usage() (cpu time.Duration, peakKB int64, err error) {
	pid := d.cmd.Process.Pid
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	if cpu, err = parseProcCPU(string(stat)); err != nil {
		return 0, 0, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	peakKB, err = parseVmHWM(string(status))
	return cpu, peakKB, err
}

// lastUsage is the child's CPU time as the kernel reported it at exit.
func (d *childDaemon) lastUsage() (time.Duration, bool) {
	if d.cmd.ProcessState == nil {
		return 0, false
	}
	return d.cmd.ProcessState.UserTime() + d.cmd.ProcessState.SystemTime(), true
}

// userHZ is the unit of the CPU times in /proc/<pid>/stat; Linux fixes it
// at 100 for user space on every architecture Go runs on.
const userHZ = 100

// parseProcCPU returns utime+stime from the text of /proc/<pid>/stat. The
// command name may hold spaces and parentheses, so fields count from the
// last ')'.
func parseProcCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("/proc stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields", len(f)+2)
	}
	var ticks int64
	for _, s := range f[11:13] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: %w", err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// parseVmHWM returns the peak resident set size in kB from the text of
// /proc/<pid>/status.
func parseVmHWM(status string) (int64, error) {
	for line := range strings.Lines(status) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("/proc status: VmHWM %q", strings.TrimSpace(rest))
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, errors.New("/proc status: no VmHWM")
}

// stop sends SIGTERM and waits up to timeout for a clean exit.
func (d *childDaemon) stop(timeout time.Duration) error {
	if err := d.signal(syscall.SIGTERM); err != nil {
		return err
	}
	err, ok := d.wait(timeout)
	if !ok {
		d.kill()
		return fmt.Errorf("daemon still running %s after SIGTERM", timeout)
	}
	if err != nil {
		return fmt.Errorf("daemon exit after SIGTERM: %w\n%s", err, d.logTail())
	}
	return nil
}

func (d *childDaemon) signal(sig syscall.Signal) error {
	if d.waited {
		return errors.New("daemon already exited")
	}
	return d.cmd.Process.Signal(sig)
}

// wait waits up to timeout for the child's exit; ok false on timeout.
func (d *childDaemon) wait(timeout time.Duration) (err error, ok bool) {
	if d.waited {
		return d.waitErr, true
	}
	select {
	case err := <-d.exited:
		d.waited, d.waitErr = true, err
		return err, true
	case <-time.After(timeout):
		return nil, false
	}
}

// kill ends the child at once and reaps it; harmless after it exited.
func (d *childDaemon) kill() {
	if d.waited {
		return
	}
	d.cmd.Process.Kill()
	d.wait(10 * time.Second)
}

// logTail is the end of the child's log, for errors.
func (d *childDaemon) logTail() string {
	b, _ := os.ReadFile(d.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// wireTap sits between the daemon and one simulated modem: the daemon opens
// the tap's pty, the tap relays every byte to the modem's port and back, and
// on the way counts the AT commands the daemon sent and how long the modem
// was busy answering them. It observes from outside the daemon, so the
// daemon's own CPU and memory figures stay its own.
type wireTap struct {
	master *os.File // pollable pty master; the daemon opens the slave
	slave  *os.File // held open so the master never sees a hang-up
	modem  io.ReadWriteCloser
	wg     sync.WaitGroup

	mu       sync.Mutex
	counting bool
	commands map[string]int
	busy     time.Duration
	since    time.Time // a command is outstanding since then
	lastDone time.Time // the latest final result
	hostLine []byte
	inPDU    bool      // between AT+CMGS and Ctrl-Z/ESC
	cmgsAt   time.Time // when the AT+CMGS of the PDU being typed came
	cmgs     []time.Time
	modemBuf []byte
}

func newWireTap(modemPath string) (*wireTap, error) {
	ptmx, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("tap: open pty: %w", err)
	}
	// Close on a pollable file wakes a blocked Read; on a blocking one it
	// would not, and close() could not stop the relay.
	fd, err := unix.Dup(int(ptmx.Fd()))
	ptmx.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		slave.Close()
		return nil, fmt.Errorf("tap: pty master: %w", err)
	}
	master := os.NewFile(uintptr(fd), "ptmx")
	if err := rawTTY(slave); err != nil {
		master.Close()
		slave.Close()
		return nil, err
	}
	modem, err := hw.Open(modemPath, hw.PortConfig{Baud: 115200})
	if err != nil {
		master.Close()
		slave.Close()
		return nil, err
	}
	t := &wireTap{master: master, slave: slave, modem: modem, commands: map[string]int{}}
	t.wg.Add(2)
	go func() { defer t.wg.Done(); t.relay(master, modem, t.fromHost) }()
	go func() { defer t.wg.Done(); t.relay(modem, master, t.fromModem) }()
	return t, nil
}

// rawTTY turns off what a fresh pty does to bytes (echo, CR→NL, line
// editing), as a modem's tty does not do it.
func rawTTY(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("tap: get termios: %w", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("tap: set raw mode: %w", err)
	}
	return nil
}

// path is the device the daemon opens instead of the modem's.
func (t *wireTap) path() string { return t.slave.Name() }

func (t *wireTap) relay(from io.Reader, to io.Writer, observe func([]byte, time.Time)) {
	buf := make([]byte, 4096)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			observe(buf[:n], time.Now())
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// fromHost counts command lines; the PDU typed after the AT+CMGS prompt is
// data, not a command.
func (t *wireTap) fromHost(b []byte, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range b {
		if t.inPDU {
			switch c {
			case 0x1a:
				t.inPDU = false
				t.cmgs = append(t.cmgs, t.cmgsAt)
			case 0x1b:
				t.inPDU = false
			}
			continue
		}
		if c != '\r' {
			if c != '\n' && len(t.hostLine) < 4096 {
				t.hostLine = append(t.hostLine, c)
			}
			continue
		}
		line := strings.ToUpper(strings.TrimSpace(string(t.hostLine)))
		t.hostLine = t.hostLine[:0]
		if !strings.HasPrefix(line, "AT") {
			continue
		}
		if strings.HasPrefix(line, "AT+CMGS=") {
			t.inPDU, t.cmgsAt = true, now
		}
		if t.counting {
			t.commands[commandName(line)]++
			if t.since.IsZero() {
				t.since = now
			}
		}
	}
}

// fromModem ends the busy interval at each final result.
func (t *wireTap) fromModem(b []byte, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.modemBuf = append(t.modemBuf, b...)
	for {
		i := bytes.IndexAny(t.modemBuf, "\r\n")
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(t.modemBuf[:i]))
		t.modemBuf = t.modemBuf[i+1:]
		if isFinalResult(line) && !t.since.IsZero() {
			t.busy += now.Sub(t.since)
			t.since, t.lastDone = time.Time{}, now
		}
	}
	if len(t.modemBuf) > 4096 {
		t.modemBuf = t.modemBuf[:0]
	}
}

// isBalanceCheck tells the commands of the daemon's scheduled USSD balance
// check: it runs once per SIM shortly after start-up, whatever the load.
func isBalanceCheck(name string) bool {
	return strings.HasPrefix(name, "AT+CUSD") || name == "AT+CSCS?" || name == "AT+CSCS=" || strings.HasPrefix(name, "AT^USSDMODE")
}

// commandName groups commands by what they do: "AT+CMGS=", "AT+CNMI?",
// "ATE0".
func commandName(line string) string {
	if i := strings.IndexAny(line, "=?"); i >= 0 {
		return line[:i+1]
	}
	return line
}

func isFinalResult(line string) bool {
	switch {
	case line == "OK", line == "ERROR", line == "COMMAND NOT SUPPORT",
		strings.HasPrefix(line, "+CMS ERROR"), strings.HasPrefix(line, "+CME ERROR"):
		return true
	}
	return false
}

// count starts (true) or ends (false) the measured window.
func (t *wireTap) count(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counting = on
	if !on && !t.since.IsZero() {
		t.busy += time.Since(t.since)
		t.since = time.Time{}
	}
}

func (t *wireTap) figures() (time.Duration, map[string]int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.busy, maps.Clone(t.commands)
}

// idleSince reports whether no command is outstanding, and since when.
func (t *wireTap) idleSince() (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastDone, t.since.IsZero()
}

// sendTimes are the moments each AT+CMGS whose PDU was completed reached
// the modem, in order: the k-th belongs to the modem's k-th accepted PDU.
func (t *wireTap) sendTimes() []time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.cmgs)
}

func (t *wireTap) close() {
	t.master.Close()
	t.slave.Close()
	t.modem.Close()
	t.wg.Wait()
}
