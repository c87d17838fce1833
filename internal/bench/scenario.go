package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/modemsim"
)

// Scenario is one load run: simulated modems in this process, the
// daemon as a child process so that its CPU time and memory are its own.
type Scenario struct {
	Modems      int           // per host
	Latency     time.Duration // AT+CMGS answer time
	Messages    int           // to accept; 0 with Duration
	Duration    time.Duration // accept for this long instead of a count
	Concurrency int
	Rate        float64 // accepts per second; 0 = as fast as the clients go
	Parts       int
	QueueFirst  bool   // accept all with no modem attached, then measure draining
	Capture     bool   // relay each modem through a pty that counts AT commands and busy time
	Binary      string // the gsmbridge binary that runs "serve"
	// Hosts with NATS is a fleet: as many daemons, each on Modems modems of
	// one simulated network, joined through the JetStream cluster at those
	// URLs; the clients post to the hosts in turn.
	Hosts int
	NATS  []string
}

// Run brings up the modems and the daemons, applies the load and collects
// the figures.
func (sc Scenario) Run(ctx context.Context) (*Report, error) {
	hosts := max(1, sc.Hosts)
	if hosts > 1 && len(sc.NATS) == 0 {
		return nil, fmt.Errorf("%d hosts need a NATS cluster to join", hosts)
	}
	if sc.QueueFirst && len(sc.NATS) > 0 {
		return nil, fmt.Errorf("queue-first measures one host draining its own queue, not a fleet")
	}
	rep := &Report{Modems: sc.Modems, LatencyMS: ms(sc.Latency), Parts: sc.Parts, Concurrency: sc.Concurrency,
		Rate: sc.Rate, QueueFirst: sc.QueueFirst}
	if len(sc.NATS) > 0 {
		rep.Hosts = hosts
	}
	tmp, err := os.MkdirTemp("", "gsmbridge-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	network, err := modemsim.NewNetwork(modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	defer network.Close()
	// One network for every host: each modem, and so each SIM, is distinct
	// across the fleet.
	var modems []*modemsim.Modem
	var ports []string
	var taps []*wireTap
	defer func() {
		for _, t := range taps {
			t.close()
		}
	}()
	for range hosts * sc.Modems {
		m, err := network.AddModem(modemsim.ModemConfig{Dialect: modemsim.Generic, NoisePeriod: -1})
		if err != nil {
			return nil, err
		}
		// The simulator answers the PDU after latency; the prompt comes at once.
		m.Faults().SetLatency("AT+CMGS", sc.Latency)
		modems = append(modems, m)
		port := m.Path()
		if sc.Capture {
			t, err := newWireTap(m.Path())
			if err != nil {
				return nil, err
			}
			taps = append(taps, t)
			port = t.path()
		}
		ports = append(ports, port)
	}

	load := newTraffic(sc)
	if sc.QueueFirst {
		// Accepting needs no modem: the first daemon has none, so that
		// every message is queued before any is sent.
		if err := sc.acceptWithoutModems(ctx, tmp, filepath.Join(tmp, "data"), load); err != nil {
			return nil, err
		}
		// The queue drains from the moment the first modem is ready, so
		// the wire is watched from the start, set-up commands included.
		for _, t := range taps {
			t.count(true)
		}
	}
	fleet, err := sc.startHosts(ctx, tmp, ports, modems)
	if err != nil {
		return nil, err
	}
	defer fleet.kill()
	var start *reading
	if !sc.QueueFirst {
		// The daemon checks each SIM's balance by USSD soon after start-up;
		// the session pauses the modem's sending, so the load waits for it.
		fleet.waitBalanceChecks(ctx)
		r, err := fleet.read(ctx)
		if err != nil {
			return nil, err
		}
		start = &r
	}
	selfStart, _ := selfCPU()
	for _, t := range taps {
		t.count(true)
	}
	windowStart := time.Now()
	if sc.QueueFirst {
		windowStart = time.Time{} // from the first PDU: the modems were idle until the daemon loaded its queue
	} else {
		if err := load.post(ctx, fleet.urls()); err != nil {
			return nil, err
		}
	}
	sends, err := waitDrained(ctx, fleet, modems, load.acceptedCount()*sc.Parts)
	if err != nil {
		return nil, err
	}
	// The last PDU is in; its answer follows.
	windowEnd := waitAnswered(ctx, taps, sc.Latency)
	for _, t := range taps {
		t.count(false)
	}
	end, err := fleet.read(ctx)
	if err != nil {
		return nil, err
	}
	selfEnd, _ := selfCPU()
	if err := fleet.stop(15 * time.Second); err != nil {
		return nil, err
	}

	rep.Accepted, rep.Refused = load.acceptedCount(), int(load.refused.Load())
	rep.AcceptSeconds = load.acceptSpan().Seconds()
	if rep.AcceptSeconds > 0 {
		rep.AcceptedPerS = float64(rep.Accepted) / rep.AcceptSeconds
	}
	var cmgs [][]time.Time
	if sc.Capture {
		rep.LatencyTo = "AT+CMGS on the modem's wire"
		for _, t := range taps {
			cmgs = append(cmgs, t.sendTimes())
		}
	} else {
		rep.LatencyTo = "PDU at the simulated modem"
	}
	sc.summariseSends(rep, load, sends, cmgs, windowStart, windowEnd)
	if rep.SendSeconds > 0 && sc.Capture {
		rep.Commands, rep.Background = map[string]int{}, map[string]int{}
		total := 0
		for _, t := range taps {
			busy, cmds := t.figures()
			rep.Utilisation = append(rep.Utilisation, round(busy.Seconds()/rep.SendSeconds))
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
			rep.ATPerSMS = round(float64(total) / float64(rep.SentParts))
		}
	}
	fleet.figures(rep, sends, start, end)
	if !sc.QueueFirst && selfEnd > 0 {
		rep.BenchCPUSeconds = round((selfEnd - selfStart).Seconds())
		if rep.SentParts > 0 {
			rep.BenchCPUPerSMSMS = round(1000 * rep.BenchCPUSeconds / float64(rep.SentParts))
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return rep, nil
}

// acceptWithoutModems runs a daemon with no modems and posts every message
// to it, then stops it cleanly.
func (sc Scenario) acceptWithoutModems(ctx context.Context, tmp, dataDir string, load *traffic) error {
	cfgPath := filepath.Join(tmp, "accept.yaml")
	if err := WriteConfig(cfgPath, dataDir, nil, nil, nil); err != nil {
		return err
	}
	d, err := StartDaemon(ctx, sc.Binary, cfgPath, dataDir, filepath.Join(tmp, "accept.log"))
	if err != nil {
		return err
	}
	defer d.Kill()
	if err := load.post(ctx, []string{d.URL}); err != nil {
		return err
	}
	return d.Stop(15 * time.Second)
}

// waitDrained waits until the simulated modems have taken want PDUs and
// returns what each took.
func waitDrained(ctx context.Context, hs *hostSet, modems []*modemsim.Modem, want int) ([][]modemsim.SentSMS, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		sends := make([][]modemsim.SentSMS, len(modems))
		got := 0
		for i, m := range modems {
			sends[i] = m.Record().Sent()
			got += len(sends[i])
		}
		if got >= want {
			return sends, nil
		}
		if err := hs.exited(); err != nil {
			return nil, fmt.Errorf("%w with %d of %d SMS sent", err, got, want)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%d of %d SMS sent when the bench gave up: %w", got, want, ctx.Err())
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
