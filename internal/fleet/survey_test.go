package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
)

func TestADeadHostsWorkIsStrandedUntilReleased(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	f.Lease = time.Hour
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx := t.Context()
	reg := prometheus.NewPedanticRegistry()
	if err := b.conn.Register(reg); err != nil {
		t.Fatal(err)
	}
	lastState := json.RawMessage(`{"modems":[{"id":"352145041000008"}]}`)
	for _, h := range []*host{a, b} {
		if _, err := h.conn.Join(ctx, "id-"+h.conn.host, time.Now(), lastState); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"msg_1", "msg_2", "msg_3"} {
		if _, err := a.claims.Take(ctx, work(id, Route{})); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.claims.StartSending(ctx, "msg_3"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.conn.ReleaseHost(ctx, b.claims, "a"); !errors.Is(err, ErrHostAlive) || !strings.Contains(err.Error(), "heartbeat lives") {
		t.Fatalf("release of a live host: %v", err)
	}

	// a dies: its heartbeat expires.
	kv, _ := b.conn.js.KeyValue(ctx, f.Names.HostsBucket)
	if err := kv.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	views, err := b.conn.Survey(ctx, b.claims)
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 2 || views[0].Host != "a" || views[0].Alive || views[0].Taken != 2 || views[0].Sending != 1 || views[0].LastBeat == nil || !views[1].Alive {
		t.Fatalf("survey: %+v", views)
	}
	// The dead host's modems stay in view as it last described them.
	if string(views[0].State) != string(lastState) || views[0].Started == nil {
		t.Errorf("a dead host's last state %s, started %v; want %s", views[0].State, views[0].Started, lastState)
	}
	if got := testutil.ToFloat64(b.conn.m.stranded.WithLabelValues("a", "taken")); got != 2 {
		t.Errorf("stranded taken = %v", got)
	}
	if _, err := b.conn.ReleaseHost(ctx, b.claims, "a"); !errors.Is(err, ErrHostAlive) || !strings.Contains(err.Error(), "twice fleet.lease") {
		t.Fatalf("release within the lease: %v", err)
	}
	b.conn.cfg.Lease = time.Millisecond
	released, err := b.conn.ReleaseHost(ctx, b.claims, "a")
	slices.Sort(released)
	if err != nil || !slices.Equal(released, []string{"msg_1", "msg_2"}) {
		t.Fatalf("released %v, %v", released, err)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n < 7 {
		t.Fatalf("fleet series: %d, %v", n, err)
	}
}

// A claim rewritten while a survey lists the claims is still counted: the
// key listing the survey used before followed the bucket's stream, and a
// key rewritten under it could drop out of that listing.
func TestSurveyCountsClaimsWhileTheyAreRewritten(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	ids := []string{"msg_1", "msg_2", "msg_3", "msg_4"}
	for _, id := range ids {
		if _, err := a.claims.Take(ctx, work(id, Route{})); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				have, rev, err := a.claims.Get(ctx, id)
				if err != nil {
					return
				}
				a.claims.update(ctx, id, have, rev) // the same claim, back to back
			}
		}()
	}
	for i := range 300 {
		views, err := b.conn.Survey(t.Context(), b.claims)
		if err != nil {
			t.Fatal(err)
		}
		if len(views) != 1 || views[0].Host != "a" || views[0].Taken != len(ids) {
			t.Fatalf("survey %d: %+v, want host a holding %d taken", i, views, len(ids))
		}
		held, err := b.claims.OnHost(t.Context(), "a")
		if err != nil {
			t.Fatal(err)
		}
		if len(held) != len(ids) {
			t.Fatalf("listing %d: a holds %d claims, want %d", i, len(held), len(ids))
		}
	}
}
