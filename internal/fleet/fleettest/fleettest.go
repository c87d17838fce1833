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

// Report describes the cluster as each running node sees it: its meta
// leader and each stream's leader, messages and replicas. Tests log it when
// the cluster stops answering, to tell a lost election from a slow one.
func (c *Cluster) Report() string {
	var b strings.Builder
	for i, nd := range c.nodes {
		if nd.srv == nil {
			fmt.Fprintf(&b, "node %d: down\n", i+1)
			continue
		}
		jsz, err := nd.srv.Jsz(&server.JSzOptions{Accounts: true, Streams: true})
		if err != nil {
			fmt.Fprintf(&b, "node %d (%s): %v\n", i+1, nd.srv.Name(), err)
			continue
		}
		meta := ""
		if jsz.Meta != nil {
			meta = jsz.Meta.Leader
		}
		fmt.Fprintf(&b, "node %d (%s): meta leader %q\n", i+1, nd.srv.Name(), meta)
		for _, acc := range jsz.AccountDetails {
			for _, st := range acc.Streams {
				fmt.Fprintf(&b, "  stream %s: %d msgs", st.Name, st.State.Msgs)
				if st.Cluster != nil {
					fmt.Fprintf(&b, ", leader %q", st.Cluster.Leader)
					for _, r := range st.Cluster.Replicas {
						fmt.Fprintf(&b, ", replica %s current=%v offline=%v lag=%d", r.Name, r.Current, r.Offline, r.Lag)
					}
				}
				b.WriteString("\n")
			}
		}
	}
	return b.String()
}
