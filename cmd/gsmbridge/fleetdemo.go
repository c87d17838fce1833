package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gsmbridge/gsmbridge/internal/bench"
)

// fleetVerbs try the fleet on one machine.
func fleetVerbs() map[string]verb {
	return map[string]verb{
		"fleet-demo": {"run a local fleet: a 3-node NATS JetStream cluster and three hosts on simulated modems (build with -tags fleetdemo)", runFleetDemo},
	}
}

// demoModems is how many simulated modems serve --modemsim gives each host.
const demoModems = 4

func runFleetDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fleet-demo", stdout, help{
		synopsis: "[flags]",
		about: "Starts a NATS JetStream cluster of three nodes in this process and three hosts, each\n" +
			"`gsmbridge serve --modemsim` with four simulated modems of its own, joined as one fleet.\n" +
			"It prints each host's address and what to try; Ctrl-C stops the hosts, then the cluster.\n" +
			"The cluster is embedded only in a build with -tags fleetdemo: production hosts point at a\n" +
			"real NATS cluster (docs/fleet.md).",
		examples: []string{
			"go run -tags fleetdemo ./cmd/gsmbridge fleet-demo",
			"go run -tags fleetdemo ./cmd/gsmbridge fleet-demo --base-port 0 --json   # free ports, printed as JSON",
		},
	})
	hosts := fs.Int("hosts", 3, "hosts in the fleet")
	basePort := fs.Int("base-port", 8781, "host i listens on 127.0.0.1:base-port+i-1 (0 = free ports)")
	dir := fs.String("dir", "", "keep the hosts' data, logs and the cluster's storage here (default: a temporary directory, removed at the end)")
	asJSON := fs.Bool("json", false, "print the cluster and the hosts as one line of JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *hosts < 1 || *hosts > 9:
		return usageError{"--hosts must be 1..9"}
	case *basePort < 0 || *basePort+*hosts > 65536:
		return usageError{"--base-port must leave room for every host's port"}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this executable to run the hosts with: %w", err)
	}
	root := *dir
	if root == "" {
		if root, err = os.MkdirTemp("", "gsmbridge-fleet-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(root)
	}
	urls, stopNATS, err := startEmbeddedNATS(filepath.Join(root, "nats"), 3)
	if err != nil {
		return err
	}
	defer stopNATS()
	demo := fleetDemo{NATS: urls}
	var daemons []*bench.Daemon
	// Hosts stop before the cluster (deferred first, run last): each says
	// goodbye to the fleet on its way out.
	defer stopDemoHosts(&daemons, stderr)
	for i := range *hosts {
		h, d, err := startDemoHost(ctx, exe, root, urls, i, *basePort)
		if err != nil {
			return err
		}
		daemons = append(daemons, d)
		demo.Hosts = append(demo.Hosts, h)
	}
	for i, d := range daemons {
		if err := d.WaitReady(ctx, demoModems); err != nil {
			return fmt.Errorf("%s: %w", demo.Hosts[i].Name, err)
		}
	}
	if *asJSON {
		err = writeJSONLine(stdout, demo)
	} else {
		_, err = io.WriteString(stdout, demo.text())
	}
	if err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// fleetDemo is what the demo tells once every host is ready.
type fleetDemo struct {
	NATS  []string   `json:"nats"`
	Hosts []demoHost `json:"hosts"`
}

type demoHost struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	DataDir string `json:"data_dir"`
	Log     string `json:"log"`
}

func (f fleetDemo) text() string {
	s := fmt.Sprintf("NATS JetStream cluster: %v\n", f.NATS)
	for _, h := range f.Hosts {
		s += fmt.Sprintf("%s: %s (status page), data %s, log %s\n", h.Name, h.URL, h.DataDir, h.Log)
	}
	first, other := f.Hosts[0].URL, f.Hosts[len(f.Hosts)-1].URL
	s += "\nEach host has four simulated modems of its own and the simulated customer phones. Try:\n" +
		"  curl -s -H 'Content-Type: application/json' -d '{\"to\":\"+79031110003\",\"text\":\"Платёж 1500.00 получен\"}' " + first + "/v1/messages\n" +
		"  curl -s " + other + "/v1/messages/<id>     # any host answers for any message\n" +
		"  curl -s " + other + "/v1/hosts             # the hosts, their modems and the work they hold\n" +
		"  gsmbridge events --follow --addr " + first + "   # one host's events; the fleet's are in the GSMBRIDGE_EVENTS stream\n" +
		"Ctrl-C stops the hosts and the cluster.\n"
	return s
}

// startDemoHost starts host i: serve --modemsim with modems numbered after
// the hosts before it, in the fleet on urls.
func startDemoHost(ctx context.Context, exe, root string, urls []string, i, basePort int) (demoHost, *bench.Daemon, error) {
	name := fmt.Sprintf("host%d", i+1)
	h := demoHost{Name: name, DataDir: filepath.Join(root, name), Log: filepath.Join(root, name+".log")}
	if err := os.MkdirAll(h.DataDir, 0o700); err != nil {
		return h, nil, err
	}
	cfg := map[string]any{
		"log":   map[string]string{"level": "warn"},
		"fleet": map[string]any{"servers": urls, "host": name, "replicas": min(3, len(urls))},
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return h, nil, err
	}
	cfgPath := filepath.Join(root, name+".yaml")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		return h, nil, err
	}
	listen := "127.0.0.1:0"
	if basePort > 0 {
		listen = net.JoinHostPort("127.0.0.1", strconv.Itoa(basePort+i))
	}
	d, err := bench.StartDaemon(ctx, exe, cfgPath, h.DataDir, h.Log,
		"--modemsim", "--modemsim-from", strconv.Itoa(i*demoModems), "--listen", listen)
	if err != nil {
		return h, nil, fmt.Errorf("%s: %w", name, err)
	}
	h.URL = d.URL
	return h, d, nil
}

// stopDemoHosts stops the hosts together, each with SIGTERM and time to
// finish.
func stopDemoHosts(daemons *[]*bench.Daemon, stderr io.Writer) {
	var wg sync.WaitGroup
	for _, d := range *daemons {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.Stop(20 * time.Second); err != nil {
				fmt.Fprintf(stderr, "gsmbridge fleet-demo: %v\n", err)
			}
		}()
	}
	wg.Wait()
}
