package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/gsmbridge/gsmbridge/daemon"
	"github.com/gsmbridge/gsmbridge/daemon/config"
	"github.com/gsmbridge/gsmbridge/hw"
	"github.com/gsmbridge/gsmbridge/hw/sim"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (YAML)")
	useSim := fs.Bool("sim", false, "run on simulated modems (four operators and customer phones); needs no config")
	listen := fs.String("listen", "", "HTTP listen address (overrides the config's listen)")
	dataDir := fs.String("data-dir", "", "data directory (overrides the config's data_dir)")
	logFormat := fs.String("log-format", "", "text or json (overrides the config's log.format)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if *configPath == "" && !*useSim {
		return usageError{"give --config FILE, or --sim to run on simulated modems"}
	}
	if err := hw.LimitOpenFiles(1024); err != nil {
		return err
	}

	var cfg *config.Config
	if *configPath != "" {
		c, err := config.Load(*configPath)
		if err != nil {
			return err
		}
		cfg = c
	} else {
		cfg = config.Default()
		cfg.Modems = nil
		cfg.DataDir = filepath.Join(os.TempDir(), fmt.Sprintf("gsmbridge-sim-%d", os.Getuid()))
	}
	if *listen != "" {
		cfg.Listen = *listen
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

	var wrap func(http.Handler) http.Handler
	if *useSim {
		simnet, err := sim.NewNetwork(sim.NetworkOptions{Logger: log.With("component", "sim")})
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
		for _, m := range modems {
			cfg.Modems = append(cfg.Modems, config.Modem{Port: m.Path(), Baud: 115200, Name: m.Config().Name})
			// Real SIMs rarely store their own number; operators write it
			// into the config, and so does the simulator.
			cfg.SIMs[m.Config().ICCID] = config.SIM{MSISDN: m.Config().MSISDN}
			op, _ := m.Operator()
			fmt.Fprintf(stdout, "simulated modem %s: %s SIM %s\n", m.Path(), op, m.Config().MSISDN)
		}
		fmt.Fprintf(stdout, "simulated customer phones: %v (see /sim/phones)\n", simnet.Phones())
		wrap = func(h http.Handler) http.Handler { return simPhones(simnet, h) }
	}

	if err := checkExposure(cfg); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	// With port 0 the kernel picked one; the watchdog's self-check needs it.
	cfg.Listen = ln.Addr().String()
	d, err := daemon.New(cfg, daemon.Options{Logger: log, Wrap: wrap})
	if err != nil {
		ln.Close()
		return err
	}
	log.Info("gsmbridge serving", "listen", ln.Addr().String(), "data_dir", cfg.DataDir, "modems", len(cfg.Modems))
	fmt.Fprintf(stdout, "gsmbridge listening on http://%s\n", ln.Addr())
	err = d.Run(ctx, ln)
	log.Info("gsmbridge stopped", "err", err)
	return err
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
