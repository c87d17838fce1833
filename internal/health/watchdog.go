package health

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// sdNotifier speaks the sd_notify(3) protocol: one datagram of
// newline-separated KEY=VALUE assignments to the socket systemd names in
// NOTIFY_SOCKET. It is written here rather than taken from a library because
// the protocol is one sendto; a nil *sdNotifier (not run by systemd) drops
// everything.
type sdNotifier struct {
	addr *net.UnixAddr
}

// notifierFromEnv returns the notifier for NOTIFY_SOCKET, or nil when the
// service does not run under systemd. A name starting with '@' is an abstract
// socket; Go's net package maps the '@' to the leading NUL the kernel wants.
func notifierFromEnv(getenv func(string) string) (*sdNotifier, error) {
	name := getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil, nil
	}
	if !strings.HasPrefix(name, "/") && !strings.HasPrefix(name, "@") {
		return nil, fmt.Errorf("NOTIFY_SOCKET %q: want an absolute path or an abstract name starting with @", name)
	}
	return &sdNotifier{addr: &net.UnixAddr{Name: name, Net: "unixgram"}}, nil
}

// notify sends the assignments in one datagram, so systemd applies them
// together (READY=1 with its STATUS=).
func (n *sdNotifier) notify(assignments ...string) error {
	if n == nil {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(strings.Join(assignments, "\n"))); err != nil {
		return fmt.Errorf("sd_notify %s: %w", n.addr.Name, err)
	}
	return nil
}

// watchdogPeriod reads WatchdogSec= as systemd passes it. ok is false when
// the watchdog is off, or when WATCHDOG_PID names another process: the
// variables were then inherited, and pings from us would be refused or,
// worse, keep a wedged parent alive.
func watchdogPeriod(getenv func(string) string, pid int) (period time.Duration, ok bool, err error) {
	usec := getenv("WATCHDOG_USEC")
	if usec == "" {
		return 0, false, nil
	}
	if p := getenv("WATCHDOG_PID"); p != "" && p != strconv.Itoa(pid) {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || n == 0 {
		return 0, false, fmt.Errorf("WATCHDOG_USEC %q: want a positive number of microseconds", usec)
	}
	return time.Duration(n) * time.Microsecond, true, nil
}

// NotifyReady tells systemd (Type=notify) the service is up: the store is
// open and the API listens on listen.
func NotifyReady(log *slog.Logger, listen string) {
	n, err := notifierFromEnv(os.Getenv)
	if err != nil {
		log.Warn("not telling systemd we are ready", "err", err)
		return
	}
	if err := n.notify("READY=1", "STATUS=serving the API on "+listen); err != nil {
		log.Warn("telling systemd we are ready", "err", err)
	}
}

// NotifyStopping tells systemd the service is shutting down on purpose, so
// the silence of the watchdog that follows is not taken for a hang.
func NotifyStopping(log *slog.Logger) {
	n, err := notifierFromEnv(os.Getenv)
	if err == nil {
		err = n.notify("STOPPING=1", "STATUS=stopping: finishing sends in flight")
	}
	if err != nil {
		log.Warn("telling systemd we are stopping", "err", err)
	}
}

// Pinger is a loop that answers Ping only while it runs.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Writer is the store's single writer as the watchdog sees it.
type Writer interface {
	Stats() store.WriterStats
	Write(ctx context.Context, fn func(*store.Tx) error) error
}

// Watchdog pets the systemd watchdog only while the scheduler, the store
// writer and the HTTP server all make progress, never tied to one modem: a
// dead modem is the owner's business, a wedged service is systemd's.
type Watchdog struct {
	Scheduler Pinger
	Store     Writer
	// Listen is the API's address and TLS whether it serves TLS: the
	// watchdog asks GET /healthz there.
	Listen string
	TLS    bool
	Logger *slog.Logger
}

// Run pets the watchdog until ctx ends, when it tells systemd the service
// stops. Without systemd it does nothing.
func (wd Watchdog) Run(ctx context.Context) {
	log := wd.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n, err := notifierFromEnv(os.Getenv)
	if err != nil {
		log.Warn("systemd notifications off", "err", err)
		return
	}
	if n == nil {
		return
	}
	// Shutdown cancels ctx only once the HTTP server has stopped; the
	// service may call NotifyStopping earlier, and systemd takes a second
	// STOPPING=1 as the same news.
	defer NotifyStopping(log)
	period, ok, err := watchdogPeriod(os.Getenv, os.Getpid())
	if err != nil {
		log.Warn("systemd watchdog off", "err", err)
	}
	if !ok {
		<-ctx.Done()
		return
	}
	// Pinging at half the period is what sd_watchdog_enabled(3) advises: one
	// late tick on a loaded machine does not cost a restart.
	ticker := time.NewTicker(period / 2)
	defer ticker.Stop()
	w := &watchdog{
		notifier: n,
		log:      log,
		wait:     period / 4,
		probes: []*probe{
			{name: "scheduler", check: wd.Scheduler.Ping},
			{name: "store writer", check: writerProgress(wd.Store)},
			{name: "http server", check: ServerAnswers(wd.Listen, wd.TLS, period)},
		},
	}
	w.run(ctx, ticker.C)
}

// watchdog decides, tick by tick, whether the service as a whole still works.
// Only its run goroutine touches its fields.
type watchdog struct {
	notifier *sdNotifier
	log      *slog.Logger
	// wait bounds how long one tick waits for the probes; a probe that has
	// not answered by then stays out and counts as stalled until it does.
	wait    time.Duration
	probes  []*probe
	stalled bool // the previous tick withheld the ping
	checks  sync.WaitGroup
}

// probe asks one part of the service to show that it still moves. check
// blocks until the part answered; at most one check per probe is out at a
// time, so a wedged part costs one goroutine, not one per tick.
type probe struct {
	name    string
	check   func(ctx context.Context) error
	pending chan error
}

// await takes the check's answer if it came before ctx ended; an answer
// already there wins over an expired wait.
func (p *probe) await(ctx context.Context) error {
	select {
	case err := <-p.pending:
		p.pending = nil
		return err
	default:
	}
	select {
	case err := <-p.pending:
		p.pending = nil
		return err
	case <-ctx.Done():
		return errors.New("no answer yet")
	}
}

// run ticks until ctx ends, then waits for the checks still out.
func (w *watchdog) run(ctx context.Context, ticks <-chan time.Time) {
	defer w.checks.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			w.tick(ctx)
		}
	}
}

// tick pings systemd only when every probe answered within the wait.
func (w *watchdog) tick(ctx context.Context) {
	for _, p := range w.probes {
		if p.pending == nil {
			p.pending = make(chan error, 1)
			w.checks.Add(1)
			go func(check func(context.Context) error, result chan<- error) {
				defer w.checks.Done()
				result <- check(ctx)
			}(p.check, p.pending)
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, w.wait)
	defer cancel()
	var stalled []string
	for _, p := range w.probes {
		if err := p.await(waitCtx); err != nil {
			stalled = append(stalled, p.name+": "+err.Error())
		}
	}
	if ctx.Err() != nil {
		return
	}
	if len(stalled) > 0 {
		if !w.stalled {
			w.log.Warn("withholding the systemd watchdog ping", "stalled", stalled)
		}
		w.stalled = true
		if err := w.notifier.notify("STATUS=watchdog withheld: " + strings.Join(stalled, "; ")); err != nil {
			w.log.Warn("systemd status", "err", err)
		}
		return
	}
	ping := []string{"WATCHDOG=1"}
	if w.stalled {
		w.log.Info("daemon makes progress again; pinging the systemd watchdog")
		ping = append(ping, "STATUS=serving")
	}
	w.stalled = false
	if err := w.notifier.notify(ping...); err != nil {
		w.log.Warn("systemd watchdog ping", "err", err)
	}
}

// writerProgress counts a commit since the previous check as progress;
// only when nothing committed does it make one, an empty transaction, which
// reaches the writer goroutine like any write and changes no row. A write
// refused for a store fault counts too: only a writer that does not answer
// is a hang.
func writerProgress(st Writer) func(context.Context) error {
	var seen uint64
	return func(ctx context.Context) error {
		if c := st.Stats().Commits; c != seen {
			seen = c
			return nil
		}
		err := st.Write(ctx, func(*store.Tx) error { return nil })
		seen = st.Stats().Commits
		if errors.Is(err, store.ErrUnavailable) {
			// The writer answered; the disk or the file failed. A restart
			// cures neither, and would start afresh on a deleted database
			// without a word: /readyz and the store alert say it instead.
			return nil
		}
		return err
	}
}

// ServerAnswers GETs /healthz on loopback, through the same listener
// clients use. A 429 counts as an answer: the connection cap is a busy
// server, not a hung one.
func ServerAnswers(listen string, overTLS bool, timeout time.Duration) func(context.Context) error {
	client := &http.Client{
		Timeout: timeout,
		// Over TLS the check asks whether the listener answers, not who
		// it is, so it does not verify the certificate.
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	return func(ctx context.Context) error {
		url, err := healthzURL(listen, overTLS)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			if httpapi.RefusedForLackOfCertificate(err) {
				return nil
			}
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusTooManyRequests {
			return fmt.Errorf("GET /healthz: %s", resp.Status)
		}
		return nil
	}
}

// healthzURL turns the listen address into one to dial: a wildcard host
// becomes loopback of the same family.
func healthzURL(listen string, overTLS bool) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("listen %q: %w", listen, err)
	}
	if port == "0" {
		return "", fmt.Errorf("listen %q: the port the kernel chose is unknown here", listen)
	}
	switch ip := net.ParseIP(host); {
	case host == "":
		host = "127.0.0.1"
	case ip != nil && ip.IsUnspecified() && ip.To4() != nil:
		host = "127.0.0.1"
	case ip != nil && ip.IsUnspecified():
		host = "::1"
	}
	scheme := "http://"
	if overTLS {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, port) + "/healthz", nil
}
