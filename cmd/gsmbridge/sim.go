package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gsmbridge/gsmbridge/modemsim"
)

// runSimAlias keeps "gsmbridge sim" working for one release after the
// simulator was named modemsim, so that "sim" only means the card.
func runSimAlias(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return simVerb("sim", ctx, args, stdout, stderr)
}

// runSim runs simulated modems until ctx ends, printing where they are so
// that the daemon, the CLI or gammu can be pointed at them.
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return simVerb("modemsim", ctx, args, stdout, stderr)
}

func simVerb(name string, ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet(name, stdout, help{
		synopsis: "[--modems N | --config FILE] [--json]",
		about: "Runs simulated modems on ptys until interrupted and prints, per modem, its device\n" +
			"path, operator, PLMN, number and dialect, so that the daemon, gammu, minicom or\n" +
			"gsmbridge ussd --port can be pointed at them.",
		examples: []string{
			"gsmbridge " + name + " --modems 2",
			"gsmbridge " + name + " --config modems.yaml --json",
		},
	})
	count := fs.Int("modems", 4, "number of modems: the default fleet first, then more cycling operators and dialects")
	configFile := fs.String("config", "", "YAML list of modem configurations (replaces --modems)")
	asJSON := fs.Bool("json", false, "print the modems as one line of JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if name == "sim" {
		fmt.Fprintln(stderr, "gsmbridge: \"sim\" is now \"modemsim\"; the old name goes in the next release")
	}
	if *count < 1 {
		return usageError{"--modems must be at least 1"}
	}
	var configs []modemsim.ModemConfig
	if *configFile != "" {
		var err error
		if configs, err = readSimConfig(*configFile); err != nil {
			return err
		}
	}
	n, err := modemsim.NewNetwork(modemsim.NetworkOptions{Logger: slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		return err
	}
	defer n.Close()
	var modems []*modemsim.Modem
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
	if err := printSimModems(stdout, modems, *asJSON); err != nil {
		return err
	}
	<-ctx.Done()
	return n.Close()
}

// simModem is one modem as `gsmbridge modemsim --json` lists it.
type simModem struct {
	Path     string `json:"path"`
	Name     string `json:"name"`
	Operator string `json:"operator"`
	PLMN     string `json:"plmn"`
	MSISDN   string `json:"msisdn"`
	Dialect  string `json:"dialect"`
}

// printSimModems prints one tab-separated line per modem, or all of them as
// one line of JSON.
func printSimModems(w io.Writer, modems []*modemsim.Modem, asJSON bool) error {
	list := []simModem{}
	for _, m := range modems {
		name, plmn := m.Operator()
		cfg := m.Config()
		list = append(list, simModem{Path: m.Path(), Name: cfg.Name, Operator: name, PLMN: plmn, MSISDN: cfg.MSISDN, Dialect: string(cfg.Dialect)})
	}
	if asJSON {
		return writeJSONLine(w, map[string]any{"modems": list})
	}
	var b strings.Builder
	for _, m := range list {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\n", m.Path, m.Operator, m.PLMN, m.MSISDN, m.Dialect)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func readSimConfig(path string) ([]modemsim.ModemConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var configs []modemsim.ModemConfig
	if err := dec.Decode(&configs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(configs) == 0 {
		return nil, fmt.Errorf("%s: no modems configured", path)
	}
	return configs, nil
}
