package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/gsmbridge/gsmbridge/hw/sim"
)

// runSim runs simulated modems until ctx ends, printing where they are so
// that the daemon, the CLI or gammu can be pointed at them.
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	count := fs.Int("modems", 4, "number of modems: the default fleet first, then more cycling operators and dialects")
	configFile := fs.String("config", "", "YAML list of modem configurations (replaces --modems)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected arguments %q", fs.Args())}
	}
	if *count < 1 {
		return usageError{"--modems must be at least 1"}
	}
	var configs []sim.ModemConfig
	if *configFile != "" {
		var err error
		if configs, err = readSimConfig(*configFile); err != nil {
			return err
		}
	}
	n, err := sim.NewNetwork(sim.NetworkOptions{Logger: slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		return err
	}
	defer n.Close()
	var modems []*sim.Modem
	if configs == nil {
		modems, err = n.AddFleet(*count)
	} else {
		for _, cfg := range configs {
			m, addErr := n.AddModem(cfg)
			if addErr != nil {
				err = addErr
				break
			}
			modems = append(modems, m)
		}
	}
	if err != nil {
		return err
	}
	for _, m := range modems {
		name, plmn := m.Operator()
		cfg := m.Config()
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\n", m.Path(), name, plmn, cfg.MSISDN, cfg.Dialect)
	}
	<-ctx.Done()
	return n.Close()
}

func readSimConfig(path string) ([]sim.ModemConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var configs []sim.ModemConfig
	if err := dec.Decode(&configs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(configs) == 0 {
		return nil, fmt.Errorf("%s: no modems configured", path)
	}
	return configs, nil
}
