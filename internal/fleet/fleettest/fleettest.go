// Package fleettest runs NATS JetStream servers inside a test process, so
// that fleet code is tested against the real broker: one node for unit
// tests, three for the cluster behaviour (a node killed, restarted, a
// leader moved). Nothing here is linked into the daemon.
package fleettest

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a set of JetStream nodes on loopback. Ports and storage stay
// the same across Kill and Restart, as they would for a real node.
type Cluster struct {
	t     testing.TB
	name  string
	nodes []*node
}

type node struct {
	opts *server.Options
	srv  *server.Server
}

// Start runs n nodes (1, or 3 for a cluster that survives one loss) and
// returns once JetStream answers on every node. They stop at the end of
// the test.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t, name: "gsmbridge-test"}
	clientPorts, routePorts := freePorts(t, n), freePorts(t, n)
	var routes []string
	for i := range n {
		routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(routePorts[i]))
	}
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       clientPorts[i],
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoLog:      true,
			NoSigs:     true,
			// A killed node's clients and routes must notice quickly.
			PingInterval: 250 * time.Millisecond,
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: c.name, Host: "127.0.0.1", Port: routePorts[i]}
			o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		}
		c.nodes = append(c.nodes, &node{opts: o})
	}
	for i := range c.nodes {
		c.start(i)
	}
	t.Cleanup(func() {
		for _, nd := range c.nodes {
			if nd.srv != nil {
				nd.srv.Shutdown()
				nd.srv.WaitForShutdown()
			}
		}
	})
	c.waitJetStream()
	return c
}

func (c *Cluster) start(i int) {
	c.t.Helper()
	s, err := server.NewServer(c.nodes[i].opts)
	if err != nil {
		c.t.Fatalf("nats node %d: %v", i+1, err)
	}
	go s.Start()
	if !s.ReadyForConnections(20 * time.Second) {
		c.t.Fatalf("nats node %d did not start", i+1)
	}
	c.nodes[i].srv = s
}

// waitJetStream returns when a meta leader is elected and every running
// node has caught up with it: before that, creating a stream fails with
// "JetStream system temporarily unavailable".
func (c *Cluster) waitJetStream() {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		leader, current := false, true
		for _, nd := range c.nodes {
			if nd.srv == nil {
				continue
			}
			if len(c.nodes) == 1 {
				leader = nd.srv.JetStreamEnabled()
				continue
			}
			leader = leader || nd.srv.JetStreamIsLeader()
			current = current && nd.srv.JetStreamIsCurrent()
		}
		if leader && current {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatal("the JetStream cluster elected no leader within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// URLs are the client URLs of all nodes, running or not, as a fleet
// configuration lists them.
func (c *Cluster) URLs() []string {
	var urls []string
	for _, nd := range c.nodes {
		urls = append(urls, "nats://127.0.0.1:"+strconv.Itoa(nd.opts.Port))
	}
	return urls
}

// Kill stops node i at once, as a crash would: clients connected to it
// must move to another node.
func (c *Cluster) Kill(i int) {
	c.t.Helper()
	nd := c.nodes[i]
	nd.srv.Shutdown()
	nd.srv.WaitForShutdown()
	nd.srv = nil
}

// Restart starts a killed node i again on its port and storage, and waits
// until it has caught up.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	c.start(i)
	c.waitJetStream()
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
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
