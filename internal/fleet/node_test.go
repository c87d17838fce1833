package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
)

// fakeLocal is a host's service as the fleet sees it: free lanes, a store.
type fakeLocal struct {
	host
	free    int
	changed chan struct{}
}

func (l *fakeLocal) Room() Room {
	n := l.free - len(l.taken())
	return Room{n, []Capacity{{Route{}, n}}}
}
func (l *fakeLocal) RoomChanged() <-chan struct{}          { return l.changed }
func (l *fakeLocal) State(context.Context) json.RawMessage { return json.RawMessage(`{"modems":1}`) }

func TestNodesJoinTakeWorkAndAnswerForIt(t *testing.T) {
	nats := fleettest.Start(t, 3)
	f := fleetConfig(nats.URLs(), 3)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	locals := map[string]*fakeLocal{}
	var nodes []*Node
	for _, name := range []string{"a", "b"} {
		f.Host = name
		l := &fakeLocal{free: 5, changed: make(chan struct{})}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /v1/messages/{id}", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"host":"` + name + `"}`))
		})
		// The service's reading of the hosts' states, stood in for by
		// counting the other live hosts.
		others := func(self string, views []HostView) int {
			return len(slices.DeleteFunc(slices.Clone(views), func(v HostView) bool { return v.Host == self || !v.Alive }))
		}
		n, err := Join(ctx, f, Options{DataDir: t.TempDir(), Local: l, Reads: mux, Registerer: prometheus.NewRegistry(), ModemsSharingID: others})
		if err != nil {
			t.Fatal(err)
		}
		locals[name], nodes = l, append(nodes, n)
		wg.Add(1)
		go func() { defer wg.Done(); n.Run(ctx) }()
	}
	// A second machine named "a" is refused.
	f.Host = "a"
	if _, err := Join(ctx, f, Options{DataDir: t.TempDir(), Local: &fakeLocal{}}); !errors.Is(err, ErrHostTaken) {
		t.Fatalf("a second a: %v", err)
	}
	for _, id := range []string{"msg_1", "msg_2", "msg_3", "msg_4"} {
		if _, _, err := nodes[0].Conn.Submit(ctx, work(id, Route{}), "", ""); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "all four taken", func() bool { return len(locals["a"].taken())+len(locals["b"].taken()) == 4 })
	for name, l := range locals {
		for _, id := range l.taken() {
			holder, _, err := nodes[1].Claims.Holder(ctx, id)
			if err != nil || holder != name {
				t.Fatalf("%s taken by %s, claim says %q, %v", id, name, holder, err)
			}
			eventually(t, "reads served", func() bool {
				_, body, err := nodes[1].Conn.Forward().Read(ctx, holder, "/v1/messages/"+id, "")
				return err == nil && string(body) == `{"host":"`+name+`"}`
			})
		}
	}
	// b joined after a, so its first survey already saw a alive.
	eventually(t, "b's survey counted", func() bool { return testutil.ToFloat64(nodes[1].Conn.m.modemsSharingID) == 1 })
	views, err := nodes[0].Conn.Survey(ctx, nodes[0].Claims)
	if err != nil || len(views) != 2 || !views[0].Alive || string(views[0].State) != `{"modems":1}` {
		t.Fatalf("survey %+v, %v", views, err)
	}
	cancel()
	wg.Wait()
}

// /readyz of a fleet host reads Ready: out of the fleet until it joined,
// and again when its cluster stops answering for a heartbeat's TTL.
func TestANodeIsReadyOnceJoinedAndWhileItsClusterAnswers(t *testing.T) {
	nats := fleettest.Start(t, 1)
	away := fleetConfig([]string{"nats://127.0.0.1:1"}, 1)
	away.Host, away.PublishTimeout = "away", 100*time.Millisecond
	n, err := Join(t.Context(), away, Options{DataDir: t.TempDir(), Local: &fakeLocal{}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Conn.Close()
	if err := n.Ready(); err == nil || !strings.Contains(err.Error(), "not in the fleet yet") {
		t.Errorf("a node that never reached its cluster: Ready() = %v", err)
	}

	f := fleetConfig(nats.URLs(), 1)
	f.Host = "in"
	n, err = Join(t.Context(), f, Options{DataDir: t.TempDir(), Local: &fakeLocal{}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Conn.Close()
	if err := n.Ready(); err != nil {
		t.Errorf("a joined node: Ready() = %v", err)
	}
	n.Conn.mu.Lock()
	n.Conn.contact = time.Now().Add(-HeartbeatTTL - time.Second)
	n.Conn.mu.Unlock()
	if err := n.Ready(); err == nil || !strings.Contains(err.Error(), "has not answered for 16s") {
		t.Errorf("a node its cluster left alone past the heartbeat TTL: Ready() = %v", err)
	}
}

// A cluster that lost the fleet's streams (every node's storage, or an
// operator's delete) gets them back from the running hosts, which take new
// work again without a restart; a consumer the cluster dropped (a pinned
// route's, idle for a day) is made again at the next pull.
func TestANodeMakesAgainWhatItsClusterLost(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	f.Host = "a"
	ctx, cancel := context.WithCancel(t.Context())
	l := &fakeLocal{free: 10, changed: make(chan struct{})}
	n, err := Join(ctx, f, Options{DataDir: t.TempDir(), Local: l})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); n.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	op := dial(t, f, "operator")
	submitted := func(id string) bool {
		_, _, err := n.Conn.Submit(ctx, work(id, Route{}), "", "")
		if err != nil && !errors.Is(err, ErrUnavailable) {
			t.Fatalf("submitting %s: %v", id, err)
		}
		return err == nil
	}
	took := func(id string) func() bool {
		return func() bool { return slices.Contains(l.taken(), id) }
	}
	eventually(t, "msg_1 accepted", func() bool { return submitted("msg_1") })
	eventually(t, "msg_1 taken", took("msg_1"))

	var names []string
	for name := range op.js.StreamNames(ctx).Name() {
		names = append(names, name)
	}
	if len(names) != 5 {
		t.Fatalf("the fleet's streams: %v", names)
	}
	for _, name := range names {
		if err := op.js.DeleteStream(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "msg_2 accepted after the loss", func() bool { return submitted("msg_2") })
	eventually(t, "msg_2 taken", took("msg_2"))
	for _, name := range names {
		if _, err := op.js.Stream(ctx, name); err != nil {
			t.Errorf("stream %s after the loss: %v", name, err)
		}
	}

	if err := op.js.DeleteConsumer(ctx, f.Names.WorkStream, Route{}.consumer()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "msg_3 accepted", func() bool { return submitted("msg_3") })
	eventually(t, "msg_3 taken after its consumer went", took("msg_3"))
}
