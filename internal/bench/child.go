package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/client"
	"github.com/gsmbridge/gsmbridge/modemsim"
	"gopkg.in/yaml.v3"
)

// Daemon is `gsmbridge serve` running as a child process.
type Daemon struct {
	URL     string // where it listens: http://127.0.0.1:port
	cmd     *exec.Cmd
	logPath string
	exited  chan error // receives Wait's result once
	waitErr error
	waited  bool
}

// StartDaemon starts `bin serve` (with extra flags after its own) and waits
// until it listens. The child is killed if this process dies, so a crashed
// bench leaves no daemon behind; it has its own process group, so that a
// Ctrl-C at the terminal reaches this process alone, which stops its
// children in order.
func StartDaemon(ctx context.Context, bin, cfgPath, dataDir, logPath string, extra ...string) (*Daemon, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, append([]string{"serve", "--config", cfgPath, "--data-dir", dataDir}, extra...)...)
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start daemon %s: %w", bin, err)
	}
	d := &Daemon{cmd: cmd, logPath: logPath, exited: make(chan error, 1)}
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
	case d.URL = <-addr:
		return d, nil
	case err := <-d.exited:
		d.waited, d.waitErr = true, err
		return nil, fmt.Errorf("daemon exited before listening (%v):\n%s", err, d.LogTail())
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
	}
	d.Kill()
	return nil, fmt.Errorf("daemon did not start listening:\n%s", d.LogTail())
}

// WaitReady waits until n modems report ready and /readyz says the daemon
// takes work: a fleet host serves its modems before it has joined the
// fleet, and answers every POST with 503 until it has.
func (d *Daemon) WaitReady(ctx context.Context, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	c, err := client.New(d.URL, client.WithTimeout(5*time.Second))
	if err != nil {
		return err
	}
	defer c.Close()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		modems, _ := c.Modems.List(ctx) // not answering yet is not an error
		ready := 0
		for _, m := range modems {
			if m.State == api.ModemReady {
				ready++
			}
		}
		var rd api.Readiness
		if ready == n {
			if rd, _ = c.Ops.Readiness(ctx); rd.Status != "" && rd.Status != api.ReadyFail {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d modems ready, readiness %+v: %w\n%s", ready, n, rd, ctx.Err(), d.LogTail())
		case err := <-d.exited:
			d.waited, d.waitErr = true, err
			return fmt.Errorf("daemon exited (%v):\n%s", err, d.LogTail())
		case <-tick.C:
		}
	}
}

// waitBalanceChecks waits, at most bound, until every SIM had its first
// balance check.
func (d *Daemon) waitBalanceChecks(ctx context.Context, iccids []string, bound time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	c, err := client.New(d.URL, client.WithTimeout(5*time.Second))
	if err != nil {
		return
	}
	defer c.Close()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for _, iccid := range iccids {
		for {
			if v, err := c.SIMs.Balance(ctx, iccid, false); err == nil && v.LastCheck != nil {
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

// PID is the child's process id.
func (d *Daemon) PID() int { return d.cmd.Process.Pid }

// usage reads the child's CPU time (user+system) and peak resident set.
func (d *Daemon) usage() (cpu time.Duration, peakKB int64, err error) {
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

// commits is the number of transactions the daemon's store committed, from
// its /metrics: each is one fsync of the write-ahead log, on this machine
// the costliest step of a write.
func (d *Daemon) commits(ctx context.Context) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "gsmbridge_store_commits_total "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s/metrics has no gsmbridge_store_commits_total", d.URL)
}

// selfCPU is this process's CPU time: the load, the simulated modems and,
// in a fleet run without --nats, the NATS cluster.
func selfCPU() (time.Duration, error) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	return parseProcCPU(string(stat))
}

// lastUsage is the child's CPU time as the kernel reported it at exit.
func (d *Daemon) lastUsage() (time.Duration, bool) {
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

// Stop sends SIGTERM and waits up to timeout for a clean exit.
func (d *Daemon) Stop(timeout time.Duration) error {
	if err := d.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	err, ok := d.Wait(timeout)
	if !ok {
		d.Kill()
		return fmt.Errorf("daemon still running %s after SIGTERM", timeout)
	}
	if err != nil {
		return fmt.Errorf("daemon exit after SIGTERM: %w\n%s", err, d.LogTail())
	}
	return nil
}

// Signal sends sig to the child, unless it exited already.
func (d *Daemon) Signal(sig syscall.Signal) error {
	if d.waited {
		return errors.New("daemon already exited")
	}
	return d.cmd.Process.Signal(sig)
}

// Wait waits up to timeout for the child's exit; ok false on timeout.
func (d *Daemon) Wait(timeout time.Duration) (err error, ok bool) {
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

// Kill ends the child at once and reaps it; harmless after it exited.
func (d *Daemon) Kill() {
	if d.waited {
		return
	}
	d.cmd.Process.Kill()
	d.Wait(10 * time.Second)
}

// LogTail is the end of the child's log, for errors.
func (d *Daemon) LogTail() string {
	b, _ := os.ReadFile(d.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// WriteConfig writes a daemon configuration for the bench: loopback on
// a free port, the SIMs' send limits lifted, balance checks out of the way;
// extra sets or replaces top-level keys for the tests that need more.
func WriteConfig(path, dataDir string, ports []string, modems []*modemsim.Modem, extra map[string]any) error {
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
