// Package fleettest runs NATS JetStream servers inside a test process, so
// that fleet code is tested against the real broker: one node for unit
// tests, three for the cluster behaviour (a node killed, restarted, a
// leader moved). It wraps fleetdemo for tests; nothing here is linked into
// the daemon.
package fleettest

import (
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/fleet/fleetdemo"
)

// Cluster is a set of JetStream nodes on loopback. Ports and storage stay
// the same across Kill and Restart, as they would for a real node.
type Cluster struct {
	t testing.TB
	c *fleetdemo.Cluster
}

// Start runs n nodes (1, or 3 for a cluster that survives one loss) and
// returns once JetStream answers on every node. They stop at the end of
// the test.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	c, err := fleetdemo.Start(t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &Cluster{t: t, c: c}
}

// URLs are the client URLs of all nodes, running or not, as a fleet
// configuration lists them.
func (c *Cluster) URLs() []string { return c.c.URLs() }

// Kill stops node i at once, as a crash would: clients connected to it
// must move to another node.
func (c *Cluster) Kill(i int) { c.c.Kill(i) }

// Restart starts a killed node i again on its port and storage, and waits
// until it has caught up.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	if err := c.c.Restart(i); err != nil {
		c.t.Fatal(err)
	}
}

// Report describes the cluster as each running node sees it (meta and
// stream leaders), for a test to log when the cluster stops answering.
func (c *Cluster) Report() string { return c.c.Report() }
