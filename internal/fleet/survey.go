package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrHostAlive: release refused, the host may still send its work.
var ErrHostAlive = errors.New("the host may still be sending")

// HostView is one host as the fleet sees it: alive while its heartbeat
// lives, and what unfinished work it holds.
type HostView struct {
	Host     string          `json:"host"`
	Alive    bool            `json:"alive"`
	Started  *time.Time      `json:"started,omitempty"`
	LastBeat *time.Time      `json:"last_beat,omitempty"`
	Taken    int             `json:"taken"`    // stored there, no part begun: releasable once it is dead
	Sending  int             `json:"sending"`  // a part may have reached a modem: only that host can tell
	Released int             `json:"released"` // handed back, not yet taken by another host
	State    json.RawMessage `json:"state,omitempty"`
}

// lastBeatKey keeps a host's last heartbeat after the heartbeat itself
// expired: release waits a time counted from it, and the listings show a
// dead host's modems and SIMs as it last described them.
func lastBeatKey(host string) string { return "l." + host }

// noteBeat keeps the beat as this host's last, and compares this host's
// clock with the cluster's by the time the server stamped on it.
func (c *Conn) noteBeat(ctx context.Context, beat []byte) {
	kv, err := c.buckets.get(ctx, c.js, c.cfg.Names.ClaimsBucket)
	if err != nil {
		return
	}
	rev, err := kv.Put(ctx, lastBeatKey(c.host), beat)
	after := time.Now()
	if err != nil {
		return
	}
	if e, err := kv.Get(ctx, lastBeatKey(c.host)); err == nil && e.Revision() == rev {
		c.clock.note(c.log, e.Created(), after)
	}
}

// Survey lists every host that beats or holds unfinished work, and sets
// the stranded and pending gauges. A host that stopped beating comes with
// its last heartbeat's time and state.
func (c *Conn) Survey(ctx context.Context, claims *Claims) ([]HostView, error) {
	beats, err := c.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	views := map[string]*HostView{}
	for _, b := range beats {
		views[b.Host] = &HostView{Host: b.Host, Alive: true, Started: &b.Started, LastBeat: &b.At, State: b.State}
	}
	keys, err := c.buckets.keys(ctx, c.js, c.cfg.Names.ClaimsBucket, "c.>")
	if err != nil {
		return nil, unavailable("listing claims", err)
	}
	for _, k := range keys {
		have, _, err := claims.get(ctx, k, k)
		if errors.Is(err, ErrNoClaim) {
			continue
		}
		if err != nil {
			return nil, err
		}
		v := views[have.Host]
		if v == nil {
			v = &HostView{Host: have.Host}
			views[have.Host] = v
		}
		switch have.State {
		case Taken:
			v.Taken++
		case Sending:
			v.Sending++
		case Released:
			v.Released++
		}
	}
	out := make([]HostView, 0, len(views))
	c.m.stranded.Reset()
	for _, v := range views {
		if !v.Alive {
			if b, err := c.lastBeat(ctx, v.Host); err == nil {
				v.Started, v.LastBeat, v.State = &b.Started, &b.At, b.State
			}
			c.m.stranded.WithLabelValues(v.Host, string(Taken)).Set(float64(v.Taken))
			c.m.stranded.WithLabelValues(v.Host, string(Sending)).Set(float64(v.Sending))
		}
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b HostView) int { return strings.Compare(a.Host, b.Host) })
	if s, err := c.js.Stream(ctx, c.cfg.Names.WorkStream); err == nil {
		if info, err := s.Info(ctx); err == nil {
			c.m.pending.Set(float64(info.State.Msgs))
		}
	}
	return out, nil
}

func (c *Conn) lastBeat(ctx context.Context, host string) (Beat, error) {
	kv, err := c.buckets.get(ctx, c.js, c.cfg.Names.ClaimsBucket)
	if err != nil {
		return Beat{}, unavailable("opening the claims bucket", err)
	}
	e, err := kv.Get(ctx, lastBeatKey(host))
	if err != nil {
		return Beat{}, err
	}
	var b Beat
	if err := json.Unmarshal(e.Value(), &b); err != nil {
		return Beat{}, fmt.Errorf("fleet: the last heartbeat of %s: %w", host, err)
	}
	return b, nil
}

// ReleaseHost hands back a dead host's taken work (POST
// /v1/hosts/{host}/release). It refuses while the host's heartbeat lives,
// and until twice the lease has passed since its last beat, so that a host
// that was only cut off comes back to its own work. Safety does not rest
// on the wait: a host sends nothing whose claim is still taken, and a
// released claim fails its taken -> sending update (docs/fleet-plan.md §3).
func (c *Conn) ReleaseHost(ctx context.Context, claims *Claims, host string) ([]string, error) {
	if alive, err := beating(ctx, c, host); err != nil {
		return nil, err
	} else if alive {
		return nil, fmt.Errorf("%s: %w: its heartbeat lives", host, ErrHostAlive)
	}
	wait := 2 * c.cfg.Lease
	if b, err := c.lastBeat(ctx, host); err == nil {
		if left := wait - time.Since(b.At); left > 0 {
			return nil, fmt.Errorf("%s: %w: its last heartbeat was %s ago; release waits %s after it (twice fleet.lease), %s more",
				host, ErrHostAlive, time.Since(b.At).Round(time.Second), wait, left.Round(time.Second))
		}
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, unavailable("reading the last heartbeat of "+host, err)
	}
	return claims.Release(ctx, host)
}
