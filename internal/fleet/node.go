package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gsmbridge/gsmbridge/internal/config"
)

// Local is what the fleet needs from this host's service.
type Local interface {
	Taker
	// Room is what this host can start now; the channel RoomChanged
	// returns is closed when it may have grown.
	Room() Room
	RoomChanged() <-chan struct{}
	// State describes the host for the fleet's listings: its modems and
	// SIMs, as the API shows them.
	State(ctx context.Context) json.RawMessage
}

// Options are what a Node is built from.
type Options struct {
	DataDir    string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Local      Local
	Events     EventLog
	Cursor     Cursor
	// Reads answers the reads other hosts forward here: the host's own API.
	Reads http.Handler
	// ModemsSharingID, when set, reads each survey's hosts and counts the
	// modems of this host (self) whose id a modem of another live host
	// also has (gsmbridge_fleet_modems_sharing_id): the fleet carries the
	// hosts' states, the service reads them.
	ModemsSharingID func(self string, views []HostView) int
}

// Node is this host's membership of the fleet and the loops that keep it.
type Node struct {
	Conn   *Conn
	Claims *Claims
	o      Options
	id     string
	start  time.Time

	mu      sync.Mutex
	joined  bool
	joinErr error // the last join's failure, until one succeeds
}

// HostName is the fleet.host setting, or the machine's host name up to
// its first dot.
func HostName(cfg config.Fleet) (string, error) {
	if cfg.Host != "" {
		return cfg.Host, nil
	}
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("fleet.host is not set and the host name is unknown: %w", err)
	}
	h, _, _ = strings.Cut(h, ".")
	if !plainToken.MatchString(h) {
		return "", fmt.Errorf("fleet.host is not set and this machine's name %q cannot stand in a NATS subject; set fleet.host", h)
	}
	return h, nil
}

// Join connects to the fleet and takes this host's name. A name another
// live host holds is an error (the daemon does not start); an unreachable
// cluster is not: Run keeps trying while the host serves what it holds.
func Join(ctx context.Context, cfg config.Fleet, o Options) (*Node, error) {
	host, err := HostName(cfg)
	if err != nil {
		return nil, err
	}
	id, err := HostID(o.DataDir)
	if err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := Dial(cfg, host, o.Logger)
	if err != nil {
		return nil, err
	}
	if o.Registerer != nil {
		if err := c.Register(o.Registerer); err != nil {
			c.Close()
			return nil, err
		}
	}
	n := &Node{Conn: c, Claims: c.Claims(id), o: o, id: id, start: time.Now()}
	if _, err := n.join(ctx); errors.Is(err, ErrHostTaken) || errors.Is(err, ErrHostIDCopied) {
		c.Close()
		return nil, err
	}
	return n, nil
}

// join makes sure the fleet's streams exist and takes the host's name; it
// returns the heartbeat's revision.
func (n *Node) join(ctx context.Context) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, n.Conn.cfg.PublishTimeout)
	defer cancel()
	var rev uint64
	err := n.Conn.Ensure(ctx)
	if err == nil {
		rev, err = n.Conn.Join(ctx, n.id, n.start, n.o.Local.State(ctx))
	}
	n.mu.Lock()
	n.joined = n.joined || err == nil
	n.joinErr = err
	n.mu.Unlock()
	return rev, err
}

// Ready says why this host cannot take work for the fleet now, or nil: it
// must have joined, and the cluster must have answered it within a
// heartbeat's TTL (past that, the other hosts count it gone, and what the
// API accepts could not be made durable either).
func (n *Node) Ready() error {
	n.mu.Lock()
	joined, err := n.joined, n.joinErr
	n.mu.Unlock()
	switch {
	case !joined && err == nil:
		return errors.New("not in the fleet yet: joining")
	case !joined:
		return fmt.Errorf("not in the fleet yet: %w", err)
	}
	if since := n.Conn.SinceContact(); since > HeartbeatTTL {
		return fmt.Errorf("the fleet's cluster has not answered for %s", since.Round(time.Second))
	}
	return nil
}

// Run keeps this host in the fleet until ctx ends: joining when the
// cluster is reachable, beating, pulling work, publishing events, serving
// forwarded reads and surveying the fleet for the metrics.
func (n *Node) Run(ctx context.Context) {
	defer n.Conn.Close()
	var rev uint64
	for {
		var err error
		if rev, err = n.join(ctx); err == nil {
			break
		}
		n.o.Logger.Warn("fleet: cannot join yet; serving what this host holds", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	run(func() { n.Conn.Heartbeat(ctx, n.id, n.start, rev, n.o.Local.State) })
	run(func() { n.restore(ctx) })
	run(func() { n.Conn.Puller(n.Claims, n.o.Local).Run(ctx, n.o.Local.Room, n.o.Local.RoomChanged) })
	if n.o.Events != nil {
		run(func() { n.Conn.EventPublisher(n.o.Events, n.o.Cursor).Run(ctx) })
	}
	if n.o.Reads != nil {
		run(func() {
			if err := n.Conn.Forward().Serve(ctx, n.o.Reads); err != nil {
				n.o.Logger.Warn("fleet: serving forwarded reads", "err", err)
			}
		})
	}
	run(func() {
		t := time.NewTicker(HeartbeatTTL / 3)
		defer t.Stop()
		for {
			views, err := n.Conn.Survey(ctx, n.Claims)
			switch {
			case err != nil && ctx.Err() == nil:
				n.o.Logger.Debug("fleet: survey", "err", err)
			case err == nil && n.o.ModemsSharingID != nil:
				n.Conn.m.modemsSharingID.Set(float64(n.o.ModemsSharingID(n.Conn.host, views)))
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	wg.Wait()
}

// restore makes the fleet's streams and buckets again whenever an answer
// of the cluster said one is gone, at most once a second, until ctx ends.
// Without it every host answered new work 503 until it was restarted.
func (n *Node) restore(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.Conn.gone:
		}
		try, cancel := context.WithTimeout(ctx, n.Conn.cfg.PublishTimeout)
		err := n.Conn.Ensure(try)
		cancel()
		if err != nil && ctx.Err() == nil {
			n.o.Logger.Warn("fleet: a stream or bucket of the fleet is gone and cannot be made again yet", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
