package fleet

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
)

// memLog is an event log in memory with the store's wake-up contract.
type memLog struct {
	mu     sync.Mutex
	events []LoggedEvent
	grew   chan struct{}
}

func newMemLog() *memLog { return &memLog{grew: make(chan struct{})} }

func (l *memLog) add(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range n {
		id := int64(len(l.events) + 1)
		l.events = append(l.events, LoggedEvent{ID: id, Type: "message.sent", Body: []byte(fmt.Sprintf(`{"id":%d}`, id))})
	}
	close(l.grew)
	l.grew = make(chan struct{})
}

func (l *memLog) Changed() (int64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.events)), l.grew
}

func (l *memLog) EventsAfter(_ context.Context, after int64, limit int) ([]LoggedEvent, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	end := min(int(after)+limit, len(l.events))
	return append([]LoggedEvent(nil), l.events[after:end]...), nil
}

type memCursor struct {
	mu    sync.Mutex
	id    int64
	saves int
}

func (c *memCursor) Load(context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id, nil
}
func (c *memCursor) Save(_ context.Context, id int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.id = id
	c.saves++
	return nil
}
func (c *memCursor) get() int64 { v, _ := c.Load(context.Background()); return v }

// eventIDs reads the fleet's event stream: the event ids of one host, in
// order, duplicates kept.
func eventIDs(t *testing.T, c *Conn, host string) []int64 {
	t.Helper()
	ctx := t.Context()
	cons, err := c.js.OrderedConsumer(ctx, c.cfg.Names.EventStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"gsmbridge.events." + host + ".>"}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for range info.NumPending {
		m, err := cons.Next(jetstream.FetchMaxWait(5e9))
		if err != nil {
			t.Fatal(err)
		}
		id, _ := strconv.ParseInt(m.Headers().Get(eventIDHeader), 10, 64)
		if m.Subject() != "gsmbridge.events."+host+".message.sent" {
			t.Errorf("subject %s", m.Subject())
		}
		ids = append(ids, id)
	}
	return ids
}

// checkOnce asserts that the stream holds events 1..n, each once. Their
// order is not checked: publishes nats.go buffered while the broker was down
// land on reconnect before the retry of the batch that failed at the outage,
// so consumers order one host's events by Gsmbridge-Event-Id (docs/fleet.md).
func checkOnce(t *testing.T, ids []int64, n int) {
	t.Helper()
	if len(ids) != n {
		t.Fatalf("stream holds %d events, want %d: %v", len(ids), n, ids)
	}
	sorted := slices.Sorted(slices.Values(ids))
	for i, id := range sorted {
		if id != int64(i+1) {
			t.Fatalf("event %d in the stream is %d: %v", i+1, id, ids)
		}
	}
}

func runPublisher(ctx context.Context, p *Publisher) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	return func() { cancel(); <-done }
}

// Events reach the stream once each, also across a broker outage (they
// wait in the log) and a publisher restarted from a cursor saved before
// its last batch (a crash between the ack and the save).
func TestEventsReachTheStreamOnce(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	c := newHost(t, f, "rack1").conn
	log, cur := newMemLog(), &memCursor{}
	p := c.EventPublisher(log, cur)
	p.retry = 50e6
	stop := runPublisher(t.Context(), p)
	log.add(300)
	eventually(t, "300 published", func() bool { return cur.get() == 300 })

	nats.Kill(0)
	log.add(50)
	eventually(t, "the lag shows the waiting events", func() bool { return p.Lag() == 50 })
	nats.Restart(0)
	eventually(t, "350 published after the outage", func() bool { return cur.get() == 350 })
	stop()

	cur.Save(t.Context(), 100)
	stop = runPublisher(t.Context(), c.EventPublisher(log, cur))
	log.add(10)
	eventually(t, "360 published after the restart", func() bool { return cur.get() == 360 })
	stop()
	checkOnce(t, eventIDs(t, c, "rack1"), 360)
}

// Each save of the cursor is a commit on the host's SQLite file: while
// events flow it is saved at most every saveEvery, and when the publisher
// stops, so that a restart publishes nothing the stream stored again.
func TestTheEventCursorIsSavedSeldomAndOnStop(t *testing.T) {
	nats := fleettest.Start(t, 1)
	c := newHost(t, fleetConfig(nats.URLs(), 1), "rack1").conn
	log, cur := newMemLog(), &memCursor{}
	p := c.EventPublisher(log, cur)
	p.saveEvery = time.Hour
	stop := runPublisher(t.Context(), p)
	for i := range 20 {
		log.add(10)
		eventually(t, "each batch published", func() bool { return p.done.Load() == int64(10*(i+1)) })
	}
	stop()
	cur.mu.Lock()
	id, saves := cur.id, cur.saves
	cur.mu.Unlock()
	if id != 200 || saves > 2 {
		t.Fatalf("cursor at %d after %d saves, want 200 after at most 2 (the first batch, the stop)", id, saves)
	}
	checkOnce(t, eventIDs(t, c, "rack1"), 200)
}

// An event whose acknowledgement never comes (the stream's leader lost the
// proposal when a node died, so the cluster answers nothing) is published
// again after the publish timeout: before, the publisher waited for that
// acknowledgement forever and the host's later events never reached the
// stream, while its lag gauge kept the value it had when the wait began.
func TestEventsWhoseAckNeverComesArePublishedAgain(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	f.PublishTimeout = 300 * time.Millisecond
	c := newHost(t, f, "rack1").conn
	ctx := t.Context()
	// No stream, and a subscriber that takes the events and never
	// answers: each publish is a request nobody acknowledges.
	if err := c.js.DeleteStream(ctx, f.Names.EventStream); err != nil {
		t.Fatal(err)
	}
	swallow, err := c.nc.SubscribeSync(f.Names.Subject + ".events.>")
	if err != nil {
		t.Fatal(err)
	}
	log, cur := newMemLog(), &memCursor{}
	p := c.EventPublisher(log, cur)
	p.retry = 50 * time.Millisecond
	stop := runPublisher(ctx, p)
	defer stop()
	log.add(5)
	if _, err := swallow.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("no event was published: %v", err)
	}
	swallow.Unsubscribe()
	if err := c.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "5 published once the stream answers", func() bool { return cur.get() == 5 })
	stop()
	checkOnce(t, eventIDs(t, c, "rack1"), 5)
}
