package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gsmbridge/gsmbridge/internal/config"
)

// ErrUnavailable marks work refused because the cluster could not take it:
// the API answers 503 with the cause, never an acceptance.
var ErrUnavailable = errors.New("the fleet's NATS cluster is unavailable")

// Conn is this host's connection to the fleet. Safe for concurrent use.
type Conn struct {
	cfg  config.Fleet
	host string
	log  *slog.Logger
	nc   *nats.Conn
	js   jetstream.JetStream
	m    *metrics

	publisher atomic.Pointer[Publisher]

	buckets buckets

	markers markerKeep
	clock   clockCheck
	gone    goneSignal

	mu sync.Mutex
	// contact is when the cluster last answered this host.
	contact time.Time
}

// Dial connects to the cluster. It returns even when no server answers
// yet: the connection keeps trying in the background, and until it is up
// new work is refused while the host goes on with what it holds.
func Dial(cfg config.Fleet, host string, log *slog.Logger) (*Conn, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Conn{cfg: cfg, host: host, log: log, gone: make(goneSignal, 1)}
	c.markers.Store(int64(finishedMarkerKeep))
	c.m = newMetrics(c)
	opts, err := c.options()
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(strings.Join(cfg.Servers, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	// An async publish whose acknowledgement never comes (the stream's
	// leader dropped the proposal while leadership moved) must fail, so
	// that the event publisher sends its batch again: without a timeout
	// it waited forever and the host's events stopped reaching the stream.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(cfg.PublishTimeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("fleet: %w", err)
	}
	c.nc, c.js = nc, js
	if nc.IsConnected() {
		c.touch()
	}
	return c, nil
}

func (c *Conn) options() ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name("gsmbridge " + c.host),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
		// What is published while the connection is down fails at once
		// instead of waiting in a buffer: a write the host gave up on
		// (new work answered 503, a claim it let go) must not land when
		// the connection returns, maybe minutes later.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			c.log.Warn("fleet: disconnected from NATS", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			c.touch()
			c.log.Info("fleet: connected to NATS", "server", nc.ConnectedUrlRedacted())
		}),
	}
	f := c.cfg
	switch {
	case f.CredsFile != "":
		opts = append(opts, nats.UserCredentials(f.CredsFile))
	case f.NKeyFile != "":
		o, err := nats.NkeyOptionFromSeed(f.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("fleet.nkey_file: %w", err)
		}
		opts = append(opts, o)
	case f.TokenFile != "":
		b, err := os.ReadFile(f.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("fleet.token_file: %w", err)
		}
		opts = append(opts, nats.Token(strings.TrimSpace(string(b))))
	}
	if f.TLS.CAFile != "" {
		opts = append(opts, nats.RootCAs(f.TLS.CAFile))
	}
	if f.TLS.CertFile != "" {
		opts = append(opts, nats.ClientCert(f.TLS.CertFile, f.TLS.KeyFile))
	}
	return opts, nil
}

// Close drops the connection; work this host took stays its own.
func (c *Conn) Close() { c.nc.Close() }

// Connected reports whether a NATS server is reachable now.
func (c *Conn) Connected() bool { return c.nc.IsConnected() }

// touch records that the cluster answered.
func (c *Conn) touch() {
	c.mu.Lock()
	c.contact = time.Now()
	c.mu.Unlock()
}

// SinceContact is how long ago the cluster last answered this host.
func (c *Conn) SinceContact() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.contact.IsZero() {
		return time.Duration(1<<63 - 1)
	}
	return time.Since(c.contact)
}

// unavailable marks a NATS failure as ErrUnavailable, keeping its cause.
func unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// Host is this host's name in the fleet.
func (c *Conn) Host() string { return c.host }

// buckets binds each bucket once: binding reads the bucket's stream, a
// round trip each claim, take and lookup would pay again.
type buckets struct {
	mu      sync.Mutex
	bound   map[string]jetstream.KeyValue
	streams map[string]jetstream.Stream
}

// get returns the named bucket, bound at its first use.
func (b *buckets) get(ctx context.Context, js jetstream.JetStream, name string) (jetstream.KeyValue, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if kv, ok := b.bound[name]; ok {
		return kv, nil
	}
	kv, err := js.KeyValue(ctx, name)
	if err != nil {
		return nil, err
	}
	if b.bound == nil {
		b.bound = map[string]jetstream.KeyValue{}
	}
	b.bound[name] = kv
	return kv, nil
}

// stream returns the stream under the named bucket, bound at its first
// use: binding asks the server for the stream's info, and a listing of the
// bucket's subjects asks again anyway.
func (b *buckets) stream(ctx context.Context, js jetstream.JetStream, name string) (jetstream.Stream, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.streams[name]; ok {
		return s, nil
	}
	s, err := js.Stream(ctx, "KV_"+name)
	if err != nil {
		return nil, err
	}
	if b.streams == nil {
		b.streams = map[string]jetstream.Stream{}
	}
	b.streams[name] = s
	return s, nil
}

// keys lists the keys of bucket under filter ("c.>") that hold a message
// in the bucket's stream, sorted: one server answer, the subjects the stream
// holds. nats.go's key listing follows the stream with a consumer instead,
// and a key rewritten while it runs can drop out of it. A key deleted or
// purged since still holds its marker and is listed: callers skip what
// they then find gone.
func (b *buckets) keys(ctx context.Context, js jetstream.JetStream, bucket, filter string) ([]string, error) {
	s, err := b.stream(ctx, js, bucket)
	if err != nil {
		return nil, err
	}
	prefix := "$KV." + bucket + "."
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(prefix+filter))
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		keys = append(keys, strings.TrimPrefix(subj, prefix))
	}
	slices.Sort(keys)
	return keys, nil
}

// forget makes the next use of each bucket bind it again, after Ensure
// changed how it is read.
func (b *buckets) forget() {
	b.mu.Lock()
	b.bound, b.streams = nil, nil
	b.mu.Unlock()
}
