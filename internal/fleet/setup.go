package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Durations the fleet's shared state keeps; docs/fleet-plan.md §1 says why.
const (
	// IdempotencyWindow matches the API's: a retried POST within it is the
	// same message on any host.
	IdempotencyWindow = 24 * time.Hour
	// HeartbeatTTL is how long a host's heartbeat outlives its last beat;
	// beats come every HeartbeatTTL/3.
	HeartbeatTTL = 15 * time.Second
	// ClaimsKeep is how long a claim is kept after its last change: long
	// past any message's life, so stranded work never drops out of sight.
	ClaimsKeep = 30 * 24 * time.Hour
	// EventDuplicates covers a host that crashed between a publish and its
	// cursor save and restarts within it; its cost is the stream's memory
	// of ids (some 30 MB at 500 events/s).
	EventDuplicates = 10 * time.Minute
)

// Ensure creates the streams and buckets the fleet shares, or checks that
// the ones another host created fit: hosts never rewrite each other's
// settings, so two hosts with different files cannot flip them back and
// forth.
func (c *Conn) Ensure(ctx context.Context) error {
	n, subj := c.cfg.Names, c.cfg.Names.Subject
	streams := []jetstream.StreamConfig{{
		Name:        n.WorkStream,
		Description: "gsmbridge: messages and confirmations accepted by any host, until one host takes them",
		Subjects:    []string{subj + ".work.>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    c.cfg.Replicas,
		Duplicates:  IdempotencyWindow,
	}, {
		Name:        n.EventStream,
		Description: "gsmbridge: every host's event log",
		Subjects:    []string{subj + ".events.>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    c.cfg.Replicas,
		Duplicates:  EventDuplicates,
		MaxAge:      c.cfg.EventsMaxAge,
	}}
	for _, want := range streams {
		if err := untilAnswered(ctx, func(ctx context.Context) error { return c.ensureStream(ctx, want) }); err != nil {
			return err
		}
	}
	buckets := []bucketSpec{
		{jetstream.KeyValueConfig{Bucket: n.ClaimsBucket, Description: "gsmbridge: which host owns each message", History: 1, TTL: ClaimsKeep, Replicas: c.cfg.Replicas, Storage: jetstream.FileStorage}, true},
		{jetstream.KeyValueConfig{Bucket: n.HostsBucket, Description: "gsmbridge: host heartbeats", History: 1, TTL: HeartbeatTTL, Replicas: c.cfg.Replicas, Storage: jetstream.FileStorage}, false},
		{jetstream.KeyValueConfig{Bucket: n.IntakeBucket, Description: "gsmbridge: Idempotency-Keys of accepted work", History: 1, TTL: IdempotencyWindow, Replicas: c.cfg.Replicas, Storage: jetstream.FileStorage}, false},
	}
	for _, want := range buckets {
		if err := untilAnswered(ctx, func(ctx context.Context) error { return c.ensureBucket(ctx, want) }); err != nil {
			return err
		}
	}
	c.buckets.forget()
	c.touch()
	return nil
}

// gone reports whether err is the cluster's answer for a stream it does
// not have: its storage was lost on every node (disks replaced, a new
// cluster in its place) or an operator deleted the stream. A stream
// without a leader for a moment can answer the same way; Ensure then finds
// it and changes nothing.
func gone(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, jetstream.ErrStreamNotFound) ||
		errors.Is(err, jetstream.ErrBucketNotFound)
}

// goneSignal wakes the node's restore loop (Node.restore) when an answer
// of the cluster says a stream of the fleet is gone.
type goneSignal chan struct{}

func (g goneSignal) note(err error) {
	if gone(err) {
		select {
		case g <- struct{}{}:
		default:
		}
	}
}

// ensureTry bounds one pass at a stream or bucket. Hosts that start
// together ask the cluster for the same stream at once, and nats-server
// (2.15) applies every one of those equal creates and updates but leaves
// some without an answer: three hosts on a fresh cluster each waited out
// their whole join for one. A request normally takes milliseconds.
const ensureTry = time.Second

// untilAnswered runs ensure, which reads before it writes and so may run
// again, until it ends other than by a request left unanswered or a
// stream not found, or ctx ends. A pass creates what it does not find, so
// "not found" at its end is a stream just made whose replicas have no
// leader yet, and one of them answered the read.
func untilAnswered(ctx context.Context, ensure func(context.Context) error) error {
	for {
		try, cancel := context.WithTimeout(ctx, ensureTry)
		err := ensure(try)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return err
		}
	}
}

// bucketSpec is a bucket the fleet shares; expiringMarkers asks its
// stream to accept per-message TTLs, which the claims bucket's purge
// markers carry (markers.go).
type bucketSpec struct {
	jetstream.KeyValueConfig
	expiringMarkers bool
}

// ensureBucket creates a bucket, or takes the one another host created,
// and makes every read of it go to its stream's leader. A KV bucket lets
// any replica answer a read by default, and a replica that lags answers
// with an older value or none: a host that read "no claim" for work it had
// just claimed dropped its copy, and the work was lost. The fleet's
// decisions read a claim, then write at the revision read, so its reads
// must see the last write. (Creating an existing bucket would turn direct
// reads back on, so an existing one is only patched.)
//
// A bucket created before its markers expired is patched to accept
// per-message TTLs; where the server refuses, ended claims keep their
// markers, as they did before.
func (c *Conn) ensureBucket(ctx context.Context, want bucketSpec) error {
	name := "KV_" + want.Bucket
	s, err := c.js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if _, err := c.js.CreateKeyValue(ctx, want.KeyValueConfig); err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
			return unavailable("creating bucket "+want.Bucket, err)
		}
		s, err = c.js.Stream(ctx, name)
	}
	if err != nil {
		return unavailable("reading bucket "+want.Bucket, err)
	}
	cfg := s.CachedInfo().Config
	if cfg.AllowDirect {
		cfg.AllowDirect = false
		if _, err := c.js.UpdateStream(ctx, cfg); err != nil {
			return unavailable("making reads of bucket "+want.Bucket+" go to its leader", err)
		}
	}
	if want.expiringMarkers && !cfg.AllowMsgTTL {
		cfg.AllowMsgTTL = true
		s, err := c.js.UpdateStream(ctx, cfg)
		switch {
		case err != nil:
			// Not fatal: a purge whose TTL the stream refuses falls back
			// to a lasting marker (Claims.ended), and the next host to
			// start tries again.
			c.log.Warn("fleet: bucket "+want.Bucket+" cannot expire markers yet", "err", err)
		case !s.CachedInfo().Config.AllowMsgTTL:
			// A server before 2.11 takes the update and drops the
			// setting it does not know; it would keep each purge's
			// TTL header as an unknown header and the marker for good.
			c.markers.refused(c.log)
		}
	}
	return nil
}

func (c *Conn) ensureStream(ctx context.Context, want jetstream.StreamConfig) error {
	_, err := c.js.CreateStream(ctx, want)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return unavailable("creating stream "+want.Name, err)
	}
	s, err := c.js.Stream(ctx, want.Name)
	if err != nil {
		return unavailable("reading stream "+want.Name, err)
	}
	have := s.CachedInfo().Config
	// The settings the fleet's promises rest on; the others (replicas, age)
	// are the operator's to change on the cluster.
	switch {
	case have.Retention != want.Retention:
		return fmt.Errorf("fleet: stream %s exists with %s retention, want %s retention: fleet.names.* must name streams of this fleet only", want.Name, have.Retention, want.Retention)
	case !slices.Equal(have.Subjects, want.Subjects):
		return fmt.Errorf("fleet: stream %s exists with subjects %v, want %v: every host of a fleet needs the same fleet.names", want.Name, have.Subjects, want.Subjects)
	case have.Duplicates < want.Duplicates:
		return fmt.Errorf("fleet: stream %s keeps message ids for %s, less than the %s a retried request may come after", want.Name, have.Duplicates, want.Duplicates)
	}
	return nil
}
