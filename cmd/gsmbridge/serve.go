package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/gsmbridge/gsmbridge/hw"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/service"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// simMenuCode is the menu every simulated operator offers (modemsim). serve
// --modemsim allows it so that the tour can walk a menu; on real SIMs only the
// operators' balance and own-number codes and ussd.allow pass.
const simMenuCode = "*111#"

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stdout, help{
		synopsis: "(--config FILE | --modemsim) [flags]",
		about: "Runs the daemon: the HTTP API, the status page and /metrics, and one owner per modem.\n" +
			"--modemsim runs it on simulated modems (four operators) and simulated customer phones,\n" +
			"with no configuration; logs go to stderr, where it listens to stdout.",
		examples: []string{
			"gsmbridge serve --config /etc/gsmbridge/config.yaml",
			"gsmbridge serve --modemsim                             # try it with no modem at all",
			"gsmbridge serve --modemsim --listen 127.0.0.1:0 --json   # a free port, printed as JSON",
		},
	})
	configPath := fs.String("config", "", "configuration file (YAML)")
	useSim := fs.Bool("modemsim", false, "run on simulated modems (four operators and customer phones); needs no config")
	fs.BoolVar(useSim, "sim", false, "the old name of --modemsim, kept for one release")
	simFrom := fs.Int("modemsim-from", 0, "with --modemsim: number the simulated modems from N (simN, ...) so that the hosts of a demo fleet hold different SIMs")
	listen := fs.String("listen", "", "HTTP listen address (overrides the config's listen)")
	dataDir := fs.String("data-dir", "", "data directory (overrides the config's data_dir)")
	logFormat := fs.String("log-format", "", "text or json (overrides the config's log.format)")
	asJSON := fs.Bool("json", false, "print where it listens (and the simulated modems and phones) as one line of JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *configPath == "" && !*useSim {
		return usageError{"give --config FILE, or --modemsim to run on simulated modems"}
	}
	if *simFrom < 0 || *simFrom > 0 && !*useSim {
		return usageError{"--modemsim-from takes a number from 0, with --modemsim"}
	}
	if err := hw.LimitOpenFiles(1024); err != nil {
		return err
	}

	var cfg *config.Config
	listenFrom := "the default listen"
	if *configPath != "" {
		c, err := config.Load(*configPath)
		if err != nil {
			return err
		}
		cfg = c
		listenFrom = "listen in " + *configPath
	} else {
		cfg = config.Default()
		cfg.Modems = nil
		cfg.DataDir = filepath.Join(os.TempDir(), fmt.Sprintf("gsmbridge-sim-%d", os.Getuid()))
		cfg.USSD.Allow = append(cfg.USSD.Allow, simMenuCode)
	}
	if *listen != "" {
		cfg.Listen = *listen
		listenFrom = "--listen"
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if *logFormat != "" {
		cfg.Log.Format = *logFormat
	}
	log, err := newLogger(cfg.Log.Format, cfg.Log.Level, stderr)
	if err != nil {
		return usageError{err.Error()}
	}
	if err := checkExposure(cfg); err != nil {
		return err
	}
	// Listen first: a taken port is the commonest start-up failure, and it
	// should not come after simulated modems were announced.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return listenError(cfg.Listen, listenFrom, err)
	}
	defer ln.Close() // Run closes it too; this covers the failures before Run

	scheme := "http://"
	if cfg.TLS.Enabled() {
		scheme = "https://"
	}
	started := serveStarted{Listen: scheme + ln.Addr().String()}
	var wrap func(http.Handler) http.Handler
	if *useSim {
		simnet, err := modemsim.NewNetwork(modemsim.NetworkOptions{Logger: log.With("component", "sim"), FirstModem: *simFrom})
		if err != nil {
			return err
		}
		defer simnet.Close()
		modems, err := simnet.DefaultFleet()
		if err != nil {
			return err
		}
		if cfg.SIMs == nil {
			cfg.SIMs = map[string]config.SIM{}
		}
		started.Simulated = &simulatedFleet{Phones: simnet.Phones().Numbers()}
		for _, m := range modems {
			cfg.Modems = append(cfg.Modems, config.Modem{Port: m.Path(), Baud: 115200, Name: m.Config().Name})
			// Real SIMs rarely store their own number; operators write it
			// into the config, and so does the simulator.
			cfg.SIMs[m.Config().ICCID] = config.SIM{MSISDN: m.Config().MSISDN}
			op, _ := m.Operator()
			started.Simulated.Modems = append(started.Simulated.Modems,
				simulatedModem{Name: m.Config().Name, Port: m.Path(), Operator: op, MSISDN: m.Config().MSISDN})
		}
		wrap = func(h http.Handler) http.Handler { return simPhones(simnet.Phones(), h) }
	}

	// With port 0 the kernel picked one; the watchdog's self-check needs it.
	cfg.Listen = ln.Addr().String()
	for _, w := range cfg.Warnings() {
		log.Warn(w.Error())
	}
	d, err := service.New(cfg, service.Options{Logger: log, Wrap: wrap})
	if err != nil {
		return err
	}
	// Before saying it listens: from then on a SIGHUP must not kill it.
	stopHUP := reloadOnHUP(d, log)
	defer stopHUP()
	log.Info("gsmbridge serving", "listen", ln.Addr().String(), "tls", cfg.TLS.Enabled(), "data_dir", cfg.DataDir, "modems", len(cfg.Modems))
	if err := started.write(stdout, *asJSON); err != nil {
		return err
	}
	err = d.Run(ctx, ln)
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		err = nil // stopped while starting up (SIGTERM, Ctrl-C): asked for, not a failure
	}
	log.Info("gsmbridge stopped", "err", err)
	return err
}

// serveStarted is what serve tells on stdout once it listens.
type serveStarted struct {
	Listen    string          `json:"listen"`
	Simulated *simulatedFleet `json:"simulated,omitempty"`
}

type simulatedFleet struct {
	Modems []simulatedModem `json:"modems"`
	Phones []string         `json:"phones"`
}

type simulatedModem struct {
	Name     string `json:"name"`
	Port     string `json:"port"`
	Operator string `json:"operator"`
	MSISDN   string `json:"msisdn"`
}

func (s serveStarted) write(w io.Writer, asJSON bool) error {
	if asJSON {
		return writeJSONLine(w, s)
	}
	var b strings.Builder
	if f := s.Simulated; f != nil {
		for _, m := range f.Modems {
			fmt.Fprintf(&b, "simulated modem %s (--modem %s): %s SIM %s\n", m.Port, m.Name, m.Operator, m.MSISDN)
		}
		fmt.Fprintf(&b, "simulated customer phones: %v (see /sim/phones)\n", f.Phones)
	}
	fmt.Fprintf(&b, "gsmbridge listening on %s\n", s.Listen)
	_, err := io.WriteString(w, b.String())
	return err
}

// listenError says which setting chose the address, so that whoever reads
// it knows what to change; a taken port is named as such.
func listenError(addr, from string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("cannot listen on %s (from %s): %w: another gsmbridge or another program holds it; "+
			"stop that, or choose another address with --listen or the configuration's listen", addr, from, syscall.EADDRINUSE)
	}
	return fmt.Errorf("cannot listen on %s (from %s; change it with --listen or the configuration's listen): %w", addr, from, err)
}

// reloadOnHUP re-reads the TLS files on SIGHUP, so a renewed certificate
// takes effect without dropping the daemon's work. The returned function
// stops listening and waits for the goroutine.
func reloadOnHUP(d *service.Service, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-hup:
				if err := d.ReloadTLS(); err != nil {
					log.Error("SIGHUP: the TLS files stay as they were", "err", err)
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
		wg.Wait()
	}
}

// checkExposure refuses to serve the API beyond this machine without tokens:
// anyone who can reach it could send SMS on the operator's SIMs.
func checkExposure(cfg *config.Config) error {
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %q: %w", cfg.Listen, err)
	}
	if len(cfg.Auth.Tokens) > 0 {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return errors.New("refusing to listen on " + cfg.Listen + " without auth.tokens: anyone who reaches it could send SMS; add tokens or listen on 127.0.0.1")
}

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if level != "" {
		if err := lv.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("log level %q: %w", level, err)
		}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}
