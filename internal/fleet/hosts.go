package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrHostTaken: another live host uses this fleet.host.
var ErrHostTaken = errors.New("another live host has this name")

// HostID returns this host's identity, made once per data directory: a
// host restarted after a crash is the same host under the same name, while
// a second machine given the same name is not.
func HostID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "fleet-host-id")
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("fleet host id: %w", err)
	}
	var raw [16]byte
	rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("fleet host id: %w", err)
	}
	if _, err := f.WriteString(id + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("fleet host id: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("fleet host id: %w", err)
	}
	return id, f.Close()
}

// Beat is one host's heartbeat as every host sees it.
type Beat struct {
	Host    string    `json:"host"`
	ID      string    `json:"id"`
	Started time.Time `json:"started"`
	At      time.Time `json:"at"`
	// State is what the host serves (modems, SIMs, capacity), as the
	// service describes it; the fleet only carries it.
	State json.RawMessage `json:"state,omitempty"`
}

// ErrHostIDCopied: another live host carries this host's fleet-host-id,
// its data directory copied (a cloned disk image). Claims name their owner
// by that id, so the two would each take the other's work for their own.
var ErrHostIDCopied = errors.New("another live host has this host's fleet-host-id")

// identityKey holds, in the hosts bucket and for a heartbeat's TTL, the
// name of the live host with fleet-host-id id. Made with a create and
// renewed with each beat, it lets one live host only carry an identity,
// however many cloned machines start at the same moment. (Host names hold
// no dot, so it is never taken for a heartbeat.)
func identityKey(id string) string { return "i." + keyToken(id) }

// holdIdentity takes or renews id for host; ErrHostIDCopied while another
// live host holds it. created says the key was made now.
func holdIdentity(ctx context.Context, kv jetstream.KeyValue, id, host string) (created bool, err error) {
	for {
		if _, err := kv.Create(ctx, identityKey(id), []byte(host)); err == nil {
			return true, nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			return false, unavailable("holding this host's identity", err)
		}
		e, err := kv.Get(ctx, identityKey(id))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // it expired between the two calls
		}
		if err != nil {
			return false, unavailable("holding this host's identity", err)
		}
		if other := string(e.Value()); other != host {
			return false, fmt.Errorf("fleet.host %q: %w, live host %q: if this host was %q until now, start it again once that heartbeat expired (%s); "+
				"if its data directory was copied from %q, remove fleet-host-id from it and start it again",
				host, ErrHostIDCopied, other, other, HeartbeatTTL, other)
		}
		if _, err := kv.Update(ctx, identityKey(id), []byte(host), e.Revision()); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return false, unavailable("holding this host's identity", err)
		}
		return false, nil
	}
}

// Join takes this host's name in the fleet, refusing it while a live
// heartbeat under the name comes from another host, or another live host
// holds this host's identity.
func (c *Conn) Join(ctx context.Context, id string, started time.Time, state json.RawMessage) (rev uint64, err error) {
	kv, err := c.buckets.get(ctx, c.js, c.cfg.Names.HostsBucket)
	if err != nil {
		return 0, unavailable("opening the hosts bucket", err)
	}
	created, err := holdIdentity(ctx, kv, id, c.host)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil && created {
			kv.Delete(ctx, identityKey(id)) // refused: the identity is not this name's
		}
	}()
	b, _ := json.Marshal(Beat{Host: c.host, ID: id, Started: started, At: time.Now(), State: state})
	for {
		rev, err := kv.Create(ctx, c.host, b)
		if err == nil {
			c.touch()
			c.noteBeat(ctx, b)
			return rev, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return 0, unavailable("joining", err)
		}
		e, err := kv.Get(ctx, c.host)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // it expired between the two calls
		}
		if err != nil {
			return 0, unavailable("joining", err)
		}
		var other Beat
		if json.Unmarshal(e.Value(), &other) != nil || other.ID != id {
			return 0, fmt.Errorf("fleet.host %q: %w (its last heartbeat %s ago); give this host another name, or stop the other",
				c.host, ErrHostTaken, time.Since(other.At).Round(time.Second))
		}
		rev, err = kv.Update(ctx, c.host, b, e.Revision())
		if err == nil {
			c.touch()
			c.noteBeat(ctx, b)
			return rev, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return 0, unavailable("joining", err)
		}
	}
}

// Heartbeat writes this host's beat every HeartbeatTTL/3 until ctx ends,
// from the revision Join returned. A beat that finds the name taken by
// another host (after this one was cut off for longer than the TTL) is
// logged and the host rejoins when the name is free again.
func (c *Conn) Heartbeat(ctx context.Context, id string, started time.Time, rev uint64, state func(context.Context) json.RawMessage) {
	t := time.NewTicker(HeartbeatTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next, err := c.beat(ctx, id, started, rev, state(ctx))
		switch {
		case err == nil:
			rev = next
		case errors.Is(err, ErrHostTaken), errors.Is(err, ErrHostIDCopied):
			c.log.Error("fleet: heartbeat", "err", err)
		default:
			c.log.Warn("fleet: heartbeat", "err", err)
			c.gone.note(err)
		}
	}
}

func (c *Conn) beat(ctx context.Context, id string, started time.Time, rev uint64, state json.RawMessage) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, HeartbeatTTL/3)
	defer cancel()
	kv, err := c.buckets.get(ctx, c.js, c.cfg.Names.HostsBucket)
	if err != nil {
		return rev, unavailable("heartbeat", err)
	}
	b, _ := json.Marshal(Beat{Host: c.host, ID: id, Started: started, At: time.Now(), State: state})
	next, err := kv.Update(ctx, c.host, b, rev)
	if err == nil {
		c.touch()
		c.noteBeat(ctx, b)
		if _, err := holdIdentity(ctx, kv, id, c.host); err != nil {
			return next, err
		}
		return next, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return rev, unavailable("heartbeat", err)
	}
	// The beat expired or someone else wrote it: take the name again the
	// way a start does.
	return c.Join(ctx, id, started, state)
}

// Hosts lists the hosts whose heartbeat lives.
//
// The names come from the bucket's stream as one answer (the subjects it
// holds), not from the bucket's key listing: that listing follows the
// stream, and a heartbeat rewritten while it runs can drop out of it (1 in
// some 70 listings with every host beating back to back), and a host left
// out read as dead: a message it made read 404, its claims stranded.
func (c *Conn) Hosts(ctx context.Context) ([]Beat, error) {
	bucket := c.cfg.Names.HostsBucket
	kv, err := c.buckets.get(ctx, c.js, bucket)
	if err != nil {
		return nil, unavailable("listing hosts", err)
	}
	keys, err := c.buckets.keys(ctx, c.js, bucket, ">")
	if err != nil {
		return nil, unavailable("listing hosts", err)
	}
	var beats []Beat
	for _, k := range keys {
		if strings.Contains(k, ".") {
			continue // an identity, not a heartbeat
		}
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, unavailable("listing hosts", err)
		}
		var b Beat
		if err := json.Unmarshal(e.Value(), &b); err != nil {
			c.log.Warn("fleet: a heartbeat that is not JSON", "host", k, "err", err)
			continue
		}
		beats = append(beats, b)
	}
	c.touch()
	return beats, nil
}
