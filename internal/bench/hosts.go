package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/modemsim"
)

// hostSet is the daemons of one run: one, or the hosts of a fleet, each
// with its own share of the modems, data directory and log.
type hostSet struct {
	sc      Scenario
	daemons []*Daemon
	modems  [][]*modemsim.Modem // per host
}

// HostFigures are one fleet host's share of a run.
type HostFigures struct {
	Host        string  `json:"host"`
	SentParts   int     `json:"sent_parts"`
	CPUSeconds  float64 `json:"daemon_cpu_seconds"`
	CPUPerSMSMS float64 `json:"daemon_cpu_ms_per_sms"`
	PeakRSSMB   float64 `json:"daemon_peak_rss_mb"`
	// CommitsPerSMS is the store's transactions per SMS sent: each is an
	// fsync, so the figure tells what a write path costs whatever the
	// machine's speed.
	CommitsPerSMS float64 `json:"store_commits_per_sms,omitempty"`
}

// hostName is fleet host i's name: unique to this run, since a name
// whose heartbeat still lives in the cluster (an earlier run's, for 15 s)
// is refused.
func hostName(i int) string { return fmt.Sprintf("bench%d-%d", os.Getpid(), i+1) }

// startHosts writes each host's configuration and starts it, then waits
// until every host's modems are ready.
func (sc Scenario) startHosts(ctx context.Context, tmp string, ports []string, modems []*modemsim.Modem) (*hostSet, error) {
	hs := &hostSet{sc: sc}
	n := len(ports) / sc.Modems
	for h := range n {
		name, extra := "", map[string]any(nil)
		dataDir := filepath.Join(tmp, "data")
		if len(sc.NATS) > 0 {
			name = hostName(h)
			dataDir = filepath.Join(tmp, "data-"+name)
			extra = map[string]any{"fleet": map[string]any{
				"servers":  sc.NATS,
				"host":     name,
				"replicas": min(3, len(sc.NATS)),
			}}
		}
		cfgPath := filepath.Join(tmp, "gsmbridge"+name+".yaml")
		share := modems[h*sc.Modems : (h+1)*sc.Modems]
		if err := WriteConfig(cfgPath, dataDir, ports[h*sc.Modems:(h+1)*sc.Modems], share, extra); err != nil {
			hs.kill()
			return nil, err
		}
		d, err := StartDaemon(ctx, sc.Binary, cfgPath, dataDir, filepath.Join(tmp, "daemon"+name+".log"))
		if err != nil {
			hs.kill()
			return nil, err
		}
		hs.daemons = append(hs.daemons, d)
		hs.modems = append(hs.modems, share)
	}
	for _, d := range hs.daemons {
		if err := d.WaitReady(ctx, sc.Modems); err != nil {
			hs.kill()
			return nil, err
		}
	}
	return hs, nil
}

func (hs *hostSet) urls() []string {
	var urls []string
	for _, d := range hs.daemons {
		urls = append(urls, d.URL)
	}
	return urls
}

// waitBalanceChecks waits for every host's at once, so that hosts share
// one bound.
func (hs *hostSet) waitBalanceChecks(ctx context.Context) {
	var wg sync.WaitGroup
	for h, d := range hs.daemons {
		var iccids []string
		for _, m := range hs.modems[h] {
			iccids = append(iccids, m.Config().ICCID)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.waitBalanceChecks(ctx, iccids, 10*time.Second)
		}()
	}
	wg.Wait()
}

// reading is each host's counters at one moment of the run.
type reading struct {
	cpu     []time.Duration
	peakKB  []int64
	commits []float64 // the store's, so far
}

// read takes each host's CPU time, peak resident set and store commits.
func (hs *hostSet) read(ctx context.Context) (reading, error) {
	var r reading
	for _, d := range hs.daemons {
		cpu, peakKB, err := d.usage()
		if err != nil {
			return reading{}, err
		}
		commits, err := d.commits(ctx)
		if err != nil {
			return reading{}, err
		}
		r.cpu, r.peakKB, r.commits = append(r.cpu, cpu), append(r.peakKB, peakKB), append(r.commits, commits)
	}
	return r, nil
}

// exited says which host has exited, if one has.
func (hs *hostSet) exited() error {
	for h, d := range hs.daemons {
		select {
		case err := <-d.exited:
			d.waited, d.waitErr = true, err
			return fmt.Errorf("daemon %d of %d exited: %v\n%s", h+1, len(hs.daemons), err, d.LogTail())
		default:
		}
	}
	return nil
}

// stop stops every host cleanly; each gets timeout.
func (hs *hostSet) stop(timeout time.Duration) error {
	var errs []error
	for _, d := range hs.daemons {
		errs = append(errs, d.Stop(timeout))
	}
	return errors.Join(errs...)
}

func (hs *hostSet) kill() {
	for _, d := range hs.daemons {
		d.Kill()
	}
}

// figures fills the CPU, memory and commit figures between start and end:
// the fleet's sums (peak RSS: the largest host's) and, in a fleet, each
// host's share. start is nil when the window began with the daemon
// (--queue-first): CPU counts from zero, and commits are left out.
func (hs *hostSet) figures(rep *Report, sends [][]modemsim.SentSMS, start *reading, end reading) {
	var cpu, cpuAll time.Duration
	var peak int64
	var commits float64
	for h, d := range hs.daemons {
		hostCPU, hostCommits := end.cpu[h], 0.0
		if start != nil {
			hostCPU -= start.cpu[h]
			hostCommits = end.commits[h] - start.commits[h]
		}
		all, _ := d.lastUsage()
		cpu, cpuAll, peak, commits = cpu+hostCPU, cpuAll+all, max(peak, end.peakKB[h]), commits+hostCommits
		if len(hs.sc.NATS) == 0 {
			continue
		}
		hf := HostFigures{Host: hostName(h), CPUSeconds: round(hostCPU.Seconds()), PeakRSSMB: round(float64(end.peakKB[h]) / 1024)}
		for _, s := range sends[h*hs.sc.Modems : (h+1)*hs.sc.Modems] {
			hf.SentParts += len(s)
		}
		if hf.SentParts > 0 {
			hf.CPUPerSMSMS = round(1000 * hf.CPUSeconds / float64(hf.SentParts))
			hf.CommitsPerSMS = round(hostCommits / float64(hf.SentParts))
		}
		rep.PerHost = append(rep.PerHost, hf)
	}
	rep.CPUSeconds = round(cpu.Seconds())
	rep.CPUTotalSeconds = round(cpuAll.Seconds())
	if rep.SentParts > 0 {
		rep.CPUPerSMSMS = round(1000 * rep.CPUSeconds / float64(rep.SentParts))
		rep.CommitsPerSMS = round(commits / float64(rep.SentParts))
	}
	rep.PeakRSSMB = round(float64(peak) / 1024)
}

// RunFleet runs sc, a fleet, and then the same load per host on one host
// without a fleet, so that the report holds what the fleet costs each host.
func (sc Scenario) RunFleet(ctx context.Context) (*Report, error) {
	rep, err := sc.Run(ctx)
	if err != nil {
		return nil, err
	}
	rep.NATSNodes = len(sc.NATS)
	alone := sc
	alone.Hosts, alone.NATS = 1, nil
	alone.Messages = (sc.Messages + sc.Hosts - 1) / sc.Hosts
	alone.Concurrency = max(1, (sc.Concurrency+sc.Hosts-1)/sc.Hosts)
	alone.Rate = sc.Rate / float64(sc.Hosts)
	if rep.Single, err = alone.Run(ctx); err != nil {
		return nil, fmt.Errorf("the same load on one host: %w", err)
	}
	if rep.Single.CPUPerSMSMS > 0 {
		rep.CPUVsSingle = round(rep.CPUPerSMSMS / rep.Single.CPUPerSMSMS)
		rep.AllCPUVsSingle = round((rep.CPUPerSMSMS + rep.BenchCPUPerSMSMS) / (rep.Single.CPUPerSMSMS + rep.Single.BenchCPUPerSMSMS))
	}
	return rep, nil
}
