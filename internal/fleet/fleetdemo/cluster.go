// Package fleetdemo runs a NATS JetStream cluster inside a process: for the
// fleet's tests (through fleettest), the one-command demo and `bench --fleet`
// of a gsmbridge built with the fleetdemo tag. The production binary never
// links it: a host in a fleet points at a real cluster, and a single host
// needs nothing but its SQLite file.
package fleetdemo

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a set of JetStream nodes on loopback. Ports and storage stay
// the same across Kill and Restart, as they would for a real node. Its
// methods are not safe for concurrent use.
type Cluster struct {
	nodes []*node
}

type node struct {
	opts *server.Options
	srv  *server.Server
}

// Start runs n nodes (1, or 3 for a cluster that survives one loss) with
// their storage under dir and returns once JetStream answers on every node.
// Close stops them.
func Start(dir string, n int) (*Cluster, error) { return startPicking(dir, n, freePorts) }

// startPicking is Start with the port picker a test can replace.
func startPicking(dir string, n int, pick func(n int) ([]int, error)) (*Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("nats cluster of %d nodes", n)
	}
	// The ports are free when picked but not held: anything on the machine
	// (another test's outgoing connection, too) may take one before its node
	// listens. Such a start fails fast and the cluster starts again on
	// fresh ports.
	var err error
	for range 3 {
		var c *Cluster
		if c, err = start(dir, n, pick); !errors.Is(err, errPortTaken) {
			return c, err
		}
	}
	return nil, err
}

func start(dir string, n int, pick func(n int) ([]int, error)) (*Cluster, error) {
	clientPorts, err := pick(n)
	if err != nil {
		return nil, err
	}
	routePorts, err := pick(n)
	if err != nil {
		return nil, err
	}
	var routes []string
	for _, p := range routePorts {
		routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(p))
	}
	c := &Cluster{}
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
		store := filepath.Join(dir, name)
		if err := os.MkdirAll(store, 0o700); err != nil {
			return nil, err
		}
		o := &server.Options{
			ServerName: name,
			Host:       "127.0.0.1",
			Port:       clientPorts[i],
			JetStream:  true,
			StoreDir:   store,
			NoLog:      true,
			NoSigs:     true,
			// A killed node's clients and routes must notice quickly.
			PingInterval: 250 * time.Millisecond,
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "gsmbridge-demo", Host: "127.0.0.1", Port: routePorts[i]}
			o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		}
		c.nodes = append(c.nodes, &node{opts: o})
	}
	for i := range c.nodes {
		if err := c.start(i); err != nil {
			c.Close()
			return nil, err
		}
	}
	if err := c.waitJetStream(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// errPortTaken: a node could not listen on a port picked for it.
var errPortTaken = errors.New("port taken")

// fatalLog catches the server's fatal errors, which it only logs: a node
// that cannot listen says so there and would otherwise just never become
// ready. Everything else it logs is dropped, as NoLog asks.
type fatalLog chan string

func (f fatalLog) Fatalf(format string, v ...any) {
	select {
	case f <- fmt.Sprintf(format, v...):
	default:
	}
}
func (fatalLog) Noticef(string, ...any) {}
func (fatalLog) Warnf(string, ...any)   {}
func (fatalLog) Errorf(string, ...any)  {}
func (fatalLog) Debugf(string, ...any)  {}
func (fatalLog) Tracef(string, ...any)  {}

func (c *Cluster) start(i int) error {
	s, err := server.NewServer(c.nodes[i].opts)
	if err != nil {
		return fmt.Errorf("nats node %d: %w", i+1, err)
	}
	fatal := make(fatalLog, 1)
	s.SetLogger(fatal, false, false)
	go s.Start()
	for deadline := time.Now().Add(20 * time.Second); !s.ReadyForConnections(100 * time.Millisecond); {
		select {
		case msg := <-fatal:
			s.Shutdown()
			s.WaitForShutdown()
			if strings.Contains(msg, "listening") {
				return fmt.Errorf("nats node %d: %s: %w", i+1, msg, errPortTaken)
			}
			return fmt.Errorf("nats node %d: %s", i+1, msg)
		default:
		}
		if time.Now().After(deadline) {
			s.Shutdown()
			s.WaitForShutdown()
			return fmt.Errorf("nats node %d did not start within 20s", i+1)
		}
	}
	c.nodes[i].srv = s
	return nil
}

// waitJetStream returns when a meta leader is elected, every running node
// has caught up with it and the leader counts each of them online: before
// that, creating a stream fails with "JetStream system temporarily
// unavailable", and placing a replicated one with "no suitable peers" (or
// a client's request times out), although the cluster already answers.
func (c *Cluster) waitJetStream() error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		leader, current, running, online := false, true, 0, 0
		for _, nd := range c.nodes {
			if nd.srv == nil {
				continue
			}
			running++
			if len(c.nodes) == 1 {
				leader = nd.srv.JetStreamEnabled()
				continue
			}
			current = current && nd.srv.JetStreamIsCurrent()
			if !nd.srv.JetStreamIsLeader() {
				continue
			}
			leader = true
			online = 1
			if jsz, err := nd.srv.Jsz(nil); err == nil && jsz.Meta != nil {
				for _, p := range jsz.Meta.Replicas {
					if p.Current && !p.Offline {
						online++
					}
				}
			}
		}
		if leader && current && (len(c.nodes) == 1 || online >= running) {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the JetStream cluster elected no leader within 30s")
		}
		time.Sleep(20 * time.Millisecond) // the server offers no signal for this
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
	nd := c.nodes[i]
	if nd.srv == nil {
		return
	}
	nd.srv.Shutdown()
	nd.srv.WaitForShutdown()
	nd.srv = nil
}

// Restart starts a killed node i again on its port and storage, and waits
// until it has caught up.
func (c *Cluster) Restart(i int) error {
	if err := c.start(i); err != nil {
		return err
	}
	return c.waitJetStream()
}

// Close stops every running node and waits for it.
func (c *Cluster) Close() {
	for i := range c.nodes {
		c.Kill(i)
	}
}

// freePorts asks the kernel for n ports that are free now, holding all of
// them until each is known so that no two are the same.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Report describes the cluster as each running node sees it: its meta
// leader and API queue, and each stream's leader, messages and replicas. Tests log it when
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
		meta, pending, infos := "", 0, 0
		if jsz.Meta != nil {
			meta, pending, infos = jsz.Meta.Leader, jsz.Meta.PendingRequests, jsz.Meta.PendingInfos
		}
		// Info requests (stream and consumer info) wait while any other
		// API request is queued: a queue that never empties starves them.
		fmt.Fprintf(&b, "node %d (%s): meta leader %q, API queue %d requests and %d infos, %d in flight of %d served\n",
			i+1, nd.srv.Name(), meta, pending, infos, jsz.API.Inflight, jsz.API.Total)
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
