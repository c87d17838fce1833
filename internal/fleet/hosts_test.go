package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
)

func fleetConfig(urls []string, replicas int) config.Fleet {
	f := config.Default().Fleet
	f.Servers, f.Replicas = urls, replicas
	return f
}

func dial(t *testing.T, f config.Fleet, host string) *Conn {
	t.Helper()
	c, err := Dial(f, host, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestEnsureCreatesOnceAndRefusesAForeignStream(t *testing.T) {
	nats := fleettest.Start(t, 1)
	ctx := t.Context()
	c := dial(t, fleetConfig(nats.URLs(), 1), "a")
	for range 2 {
		if err := c.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.js.Stream(ctx, "GSMBRIDGE_WORK")
	if err != nil {
		t.Fatal(err)
	}
	if cfg := s.CachedInfo().Config; cfg.Retention != jetstream.WorkQueuePolicy || cfg.Duplicates != IdempotencyWindow || cfg.Storage != jetstream.FileStorage {
		t.Errorf("work stream: %+v", cfg)
	}
	kv, err := c.js.KeyValue(ctx, "gsmbridge_hosts")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := kv.Status(ctx); st.TTL() != HeartbeatTTL {
		t.Errorf("hosts bucket TTL %s", st.TTL())
	}

	// Every bucket is read from its leader, also one made with direct
	// reads (by a host of an earlier version, or by hand).
	if _, err := c.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "gsmbridge_intake_old"}); err != nil {
		t.Fatal(err)
	}
	old := fleetConfig(nats.URLs(), 1)
	old.Names.IntakeBucket = "gsmbridge_intake_old"
	if err := dial(t, old, "a").Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"gsmbridge_claims", "gsmbridge_hosts", "gsmbridge_intake", "gsmbridge_intake_old"} {
		s, err := c.js.Stream(ctx, "KV_"+b)
		if err != nil {
			t.Fatal(err)
		}
		if s.CachedInfo().Config.AllowDirect {
			t.Errorf("bucket %s answers reads from any replica, which may lag", b)
		}
	}

	// A stream of the same name made for something else is not taken over.
	other := fleetConfig(nats.URLs(), 1)
	other.Names.WorkStream, other.Names.Subject = "ORDERS", "orders"
	if _, err := c.js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}); err != nil {
		t.Fatal(err)
	}
	err = dial(t, other, "a").Ensure(ctx)
	if err == nil || !strings.Contains(err.Error(), "stream ORDERS exists with Limits retention, want WorkQueue retention") {
		t.Fatalf("Ensure over a foreign stream: %v", err)
	}
}

// Hosts of a new fleet often start together. The cluster applies their
// equal creates and updates but leaves some unanswered, and a host that
// waited out its join for one served nothing until its next try (a POST
// right after the demo said ready got "bucket not found").
func TestHostsStartingTogetherOnANewClusterEachJoinAtOnce(t *testing.T) {
	nats := fleettest.Start(t, 3)
	f := fleetConfig(nats.URLs(), 3)
	conns := []*Conn{dial(t, f, "a"), dial(t, f, "b"), dial(t, f, "c")}
	// A three-node cluster answers before its meta leader counts every
	// peer online; until then it places no replicated stream.
	probe := dial(t, f, "probe")
	eventually(t, "the cluster places a replicated stream", func() bool {
		_, err := probe.js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "PROBE", Subjects: []string{"probe"}, Replicas: 3})
		return err == nil
	})
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Node.join gives it PublishTimeout; thrice that leaves room
			// for a loaded machine, while a request left unanswered
			// still waits out all of it without the retry.
			ctx, cancel := context.WithTimeout(t.Context(), 3*f.PublishTimeout)
			defer cancel()
			errs[i] = c.Ensure(ctx)
		}()
	}
	wg.Wait()
	for i, c := range conns {
		if errs[i] != nil {
			t.Errorf("host %s: %v", c.Host(), errs[i])
			continue
		}
		if _, err := c.Accepted(t.Context(), "msg_none"); !errors.Is(err, ErrNotAccepted) {
			t.Errorf("host %s reads the intake bucket: %v", c.Host(), err)
		}
	}
}

func TestJoinRefusesALiveNameOfAnotherHost(t *testing.T) {
	nats := fleettest.Start(t, 1)
	ctx := t.Context()
	f := fleetConfig(nats.URLs(), 1)
	a := dial(t, f, "rack1")
	if err := a.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	if _, err := a.Join(ctx, "id-a", started, nil); err != nil {
		t.Fatal(err)
	}
	// The same host back after a crash takes its name over.
	if _, err := dial(t, f, "rack1").Join(ctx, "id-a", started, nil); err != nil {
		t.Fatalf("rejoin of the same host: %v", err)
	}
	_, err := dial(t, f, "rack1").Join(ctx, "id-b", started, nil)
	if !errors.Is(err, ErrHostTaken) || !strings.Contains(err.Error(), `fleet.host "rack1"`) {
		t.Fatalf("a second machine named rack1: %v", err)
	}
	if _, err := dial(t, f, "rack2").Join(ctx, "id-b", started, nil); err != nil {
		t.Fatal(err)
	}
	beats, err := a.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, b := range beats {
		hosts = append(hosts, b.Host+"="+b.ID)
	}
	if strings.Join(hosts, " ") != "rack1=id-a rack2=id-b" {
		t.Errorf("hosts: %v", hosts)
	}
	// A machine cloned from rack1's disk carries its id under a name of
	// its own: claims name their owner by id, so it would take rack1's
	// work for its own.
	_, err = dial(t, f, "rack3").Join(ctx, "id-a", started, nil)
	if !errors.Is(err, ErrHostIDCopied) || !strings.Contains(err.Error(), `live host "rack1"`) {
		t.Fatalf("a clone of rack1 named rack3: %v", err)
	}
}

// Machines cloned from one disk image and started at the same moment
// each carry the same fleet-host-id under names of their own: one joins,
// the others are refused, however their joins interleave.
func TestClonesStartingTogetherJoinOnce(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	first := dial(t, f, "first")
	if err := first.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	const n = 4
	conns := make([]*Conn, n)
	for i := range conns {
		conns[i] = dial(t, f, fmt.Sprintf("clone%d", i))
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = c.Join(t.Context(), "id-image", time.Now(), nil)
		}()
	}
	close(start)
	wg.Wait()
	joined := 0
	for i, err := range errs {
		switch {
		case err == nil:
			joined++
		case !errors.Is(err, ErrHostIDCopied):
			t.Errorf("clone%d: %v", i, err)
		}
	}
	if joined != 1 {
		t.Fatalf("%d clones joined, want 1: %v", joined, errs)
	}
	beats, err := first.Hosts(t.Context())
	if err != nil || len(beats) != 1 {
		t.Fatalf("hosts: %+v, %v; want the one clone that joined", beats, err)
	}
}

func TestHeartbeatCarriesTheHostsState(t *testing.T) {
	nats := fleettest.Start(t, 1)
	ctx, cancel := context.WithCancel(t.Context())
	c := dial(t, fleetConfig(nats.URLs(), 1), "rack1")
	if err := c.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	rev, err := c.Join(ctx, "id", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	next, err := c.beat(ctx, "id", time.Now(), rev, json.RawMessage(`{"modems":4}`))
	if err != nil || next <= rev {
		t.Fatalf("beat: rev %d -> %d, %v", rev, next, err)
	}
	// A beat from a stale revision (someone wrote the name meanwhile) goes
	// through Join: the same id takes it back.
	if _, err := c.beat(ctx, "id", time.Now(), rev, json.RawMessage(`{"modems":3}`)); err != nil {
		t.Fatalf("beat after a foreign write: %v", err)
	}
	beats, err := c.Hosts(ctx)
	cancel()
	if err != nil || len(beats) != 1 || string(beats[0].State) != `{"modems":3}` {
		t.Fatalf("hosts: %+v, %v", beats, err)
	}
}

func TestHostIDIsKeptAcrossStarts(t *testing.T) {
	dir := t.TempDir()
	a, err := HostID(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := HostID(dir)
	if err != nil || a != b || len(a) != 32 {
		t.Fatalf("ids %q %q, %v", a, b, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "fleet-host-id")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("id file: %v %v", fi, err)
	}
}

// With no server up, Dial still returns: the host serves what it holds
// while the connection keeps trying.
func TestDialWithNoServerReturnsDisconnected(t *testing.T) {
	c := dial(t, fleetConfig([]string{"nats://127.0.0.1:1"}, 1), "rack1")
	if c.Connected() || c.SinceContact() < time.Hour {
		t.Fatalf("connected %v, since contact %s", c.Connected(), c.SinceContact())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := c.Ensure(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ensure without a server: %v", err)
	}
}

// Every live host is listed while all of them beat at once: a host left out
// reads as dead (its messages 404 on other hosts, its claims stranded).
func TestHostsListsEveryHostWhileTheyBeat(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	hs := []*host{newHost(t, f, "a"), newHost(t, f, "b"), newHost(t, f, "c")}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for _, h := range hs {
		if _, err := h.conn.Join(ctx, "id-"+h.conn.host, time.Now(), nil); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				h.conn.Join(ctx, "id-"+h.conn.host, time.Now(), nil) // a beat, back to back
			}
		}()
	}
	// The key listing this replaced left a host out of some 1 in 70.
	for i := range 500 {
		beats, err := hs[0].conn.Hosts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, b := range beats {
			names = append(names, b.Host)
		}
		if slices.Sort(names); !slices.Equal(names, []string{"a", "b", "c"}) {
			t.Fatalf("listing %d: %v, want a, b and c", i, names)
		}
	}
}
