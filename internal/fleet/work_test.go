package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
)

// host is one fleet member for tests: its connection, claims and what its
// local store took.
type host struct {
	conn   *Conn
	claims *Claims
	mu     sync.Mutex
	took   []string
	fail   error
}

func (h *host) TakeAll(_ context.Context, ws []Work) []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	errs := make([]error, len(ws))
	for i, w := range ws {
		if h.fail != nil {
			errs[i] = h.fail
			continue
		}
		if !slices.Contains(h.took, w.ID) {
			h.took = append(h.took, w.ID)
		}
	}
	return errs
}

func (h *host) taken() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.took)
}

func newHost(t *testing.T, f config.Fleet, name string) *host {
	t.Helper()
	c := dial(t, f, name)
	// A three-node cluster answers before its meta leader counts every
	// peer online, and refuses to place a replicated stream until it does.
	var err error
	eventually(t, "the cluster places the fleet's streams", func() bool {
		err = c.Ensure(t.Context())
		return err == nil || !strings.Contains(err.Error(), "no suitable peers")
	})
	if err != nil {
		t.Fatal(err)
	}
	return &host{conn: c, claims: c.Claims("id-" + name)}
}

func work(id string, r Route) Work {
	return Work{Kind: KindMessage, ID: id, Route: r, Request: json.RawMessage(`{"to":"+79161110001","text":"x"}`), AcceptedBy: "a", AcceptedAt: time.Now()}
}

// eventually polls cond: the broker's own timers (ack wait, redelivery)
// are what the test waits for, and nothing else can say they fired.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func streamMsgs(t *testing.T, c *Conn) uint64 {
	t.Helper()
	s, err := c.js.Stream(t.Context(), c.cfg.Names.WorkStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestSubmitWithAKeyIsOneMessageOnEveryHost(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx := t.Context()
	first, existed, err := a.conn.Submit(ctx, work("msg_1", Route{}), "key-1", "fp")
	if err != nil || existed {
		t.Fatalf("first submit: existed %v, %v", existed, err)
	}
	// The payment core retries on another host; that host made its own id.
	again, existed, err := b.conn.Submit(ctx, work("msg_2", Route{}), "key-1", "fp")
	if err != nil || !existed || again.ID != first.ID {
		t.Fatalf("retry on another host: %s existed %v, %v; want %s", again.ID, existed, err, first.ID)
	}
	if _, _, err := b.conn.Submit(ctx, work("msg_3", Route{}), "key-1", "other"); !errors.Is(err, ErrKeyReused) {
		t.Fatalf("the key with another request: %v", err)
	}
	if n := streamMsgs(t, a.conn); n != 1 {
		t.Fatalf("work stream holds %d messages, want 1", n)
	}
	if w, err := b.conn.Accepted(ctx, first.ID); err != nil || w.ID != first.ID || w.AcceptedBy != "a" {
		t.Fatalf("accepted %s on another host: %+v, %v", first.ID, w, err)
	}
	if _, err := b.conn.Accepted(ctx, "msg_2"); !errors.Is(err, ErrNotAccepted) {
		t.Fatalf("the retry's own id is not work: %v", err)
	}
}

func TestSubmitWithoutTheClusterIsUnavailable(t *testing.T) {
	f := fleetConfig([]string{"nats://127.0.0.1:1"}, 1)
	f.PublishTimeout = 200 * time.Millisecond
	c := dial(t, f, "a")
	_, _, err := c.Submit(t.Context(), work("msg_1", Route{}), "", "")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("submit with no server: %v", err)
	}
}

// Work refused while the host is cut off from the cluster must not land
// when the connection comes back: the client was told 503 and may send it
// again under a new id. A client library that buffers what is published
// while it reconnects would deliver it late.
func TestWorkRefusedWhileCutOffNeverLandsLater(t *testing.T) {
	// The host reaches the cluster through a link the test cuts, so the
	// cluster is ready the moment the host reconnects.
	nats := fleettest.Start(t, 1)
	link := newLink(t, strings.TrimPrefix(nats.URLs()[0], "nats://"))
	f := fleetConfig([]string{"nats://" + link.addr()}, 1)
	f.PublishTimeout = 500 * time.Millisecond
	a := newHost(t, f, "a")
	ctx := t.Context()
	if _, _, err := a.conn.Submit(ctx, work("msg_before", Route{}), "", ""); err != nil {
		t.Fatal(err)
	}
	link.cut(true)
	eventually(t, "a sees the cluster gone", func() bool { return !a.conn.Connected() })
	if _, _, err := a.conn.Submit(ctx, work("msg_refused", Route{}), "", ""); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("submit while cut off: %v", err)
	}
	link.cut(false)
	eventually(t, "a takes new work again", func() bool {
		_, _, err := a.conn.Submit(ctx, work("msg_after", Route{}), "", "")
		return err == nil
	})
	if n := streamMsgs(t, a.conn); n != 2 {
		t.Fatalf("%d pieces of work in the stream, want msg_before and msg_after", n)
	}
	if _, err := a.conn.Accepted(ctx, "msg_refused"); !errors.Is(err, ErrNotAccepted) {
		t.Fatalf("the refused work reads as accepted: %v", err)
	}
}

// lostAcks is the cluster as a host meets it when acknowledgements get
// lost: each publish reaches the stream, but the first lose of them (all,
// if lose is negative) are answered with a timeout.
type lostAcks struct {
	jetstream.JetStream
	mu   sync.Mutex
	lose int
}

func (l *lostAcks) Publish(ctx context.Context, subj string, data []byte, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	ack, err := l.JetStream.Publish(ctx, subj, data, opts...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil || l.lose == 0 {
		return ack, err
	}
	l.lose--
	l.mu.Unlock()
	<-ctx.Done()
	l.mu.Lock()
	return nil, ctx.Err()
}

// A publish whose acknowledgement was lost is sent again under the same
// message id, and the work is accepted once; when no acknowledgement comes
// in time the stream may hold the work, so the refusal says so and names
// it (a client told only "unavailable" would send it again under a new id).
func TestAnUnansweredPublishIsRepeatedOrReportedUnconfirmed(t *testing.T) {
	for _, tc := range []struct {
		lose    int
		wantErr error
	}{{1, nil}, {-1, ErrUnconfirmed}} {
		t.Run(fmt.Sprintf("lose %d", tc.lose), func(t *testing.T) {
			nats := fleettest.Start(t, 1)
			f := fleetConfig(nats.URLs(), 1)
			f.PublishTimeout = 3 * time.Second
			a := newHost(t, f, "a")
			a.conn.js = &lostAcks{JetStream: a.conn.js, lose: tc.lose}
			_, _, err := a.conn.Submit(t.Context(), work("msg_1", Route{}), "", "")
			if !errors.Is(err, tc.wantErr) || tc.wantErr != nil && !strings.Contains(err.Error(), "msg_1") {
				t.Fatalf("submit: %v, want %v naming msg_1", err, tc.wantErr)
			}
			if n := streamMsgs(t, a.conn); n != 1 {
				t.Fatalf("%d copies of msg_1 in the stream, want 1", n)
			}
		})
	}
}

// Two hosts pull from the same routes; every piece of work is taken by
// exactly one of them, and none is left in the stream.
func TestTwoHostsTakeEachPieceOnce(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	caps := func() Room { return Room{4, []Capacity{{Route{}, 4}, {Route{Operator: "25001"}, 4}}} }
	for _, h := range []*host{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.conn.Puller(h.claims, h).Run(ctx, caps, nil)
		}()
	}
	var want []string
	for i := range 60 {
		r := Route{}
		if i%3 == 0 {
			r.Operator = "25001"
		}
		w := work(fmt.Sprintf("msg_%02d", i), r)
		if _, _, err := a.conn.Submit(ctx, w, "", ""); err != nil {
			t.Fatal(err)
		}
		want = append(want, w.ID)
	}
	eventually(t, "all work taken", func() bool { return len(a.taken())+len(b.taken()) >= len(want) })
	cancel()
	wg.Wait()
	got := append(a.taken(), b.taken()...)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("taken %d pieces, want each of %d once:\n%v", len(got), len(want), got)
	}
	if n := streamMsgs(t, a.conn); n != 0 {
		t.Errorf("%d pieces left in the work stream", n)
	}
	for _, id := range a.taken() {
		if h, st, err := b.claims.Holder(t.Context(), id); err != nil || h != "a" || st != Taken {
			t.Errorf("%s: holder %q %s, %v", id, h, st, err)
		}
		// Each host sends against the claims it remembers from its takes.
		if !a.claims.Holds(id) || b.claims.Holds(id) {
			t.Errorf("%s: a holds it %v, b holds it %v; want a alone", id, a.claims.Holds(id), b.claims.Holds(id))
		}
	}
	for _, id := range a.taken()[:min(1, len(a.taken()))] {
		if err := a.claims.Finish(t.Context(), id); err != nil || a.claims.Holds(id) {
			t.Errorf("%s: finish %v; held after it %v", id, err, a.claims.Holds(id))
		}
	}
}

// A host with room for two pulls two, however much is waiting.
func TestAPullerTakesNoMoreThanItsFreeLanes(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a := newHost(t, f, "a")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for i := range 10 {
		if _, _, err := a.conn.Submit(ctx, work(fmt.Sprintf("msg_%d", i), Route{}), "", ""); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	free := 2
	caps := func() Room {
		mu.Lock()
		defer mu.Unlock()
		n := free - len(a.taken())
		return Room{n, []Capacity{{Route{}, n}}}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.conn.Puller(a.claims, a).Run(ctx, caps, nil)
	}()
	eventually(t, "two taken", func() bool { return len(a.taken()) == 2 })
	eventually(t, "eight still waiting", func() bool { return streamMsgs(t, a.conn) == 8 })
	cancel()
	<-done
	if n := len(a.taken()); n != 2 {
		t.Fatalf("took %d with two free lanes", n)
	}
}

// A host that claimed and stored work but stopped before its ack (SIGSTOP
// past the ack wait) keeps it: the host that gets the redelivery puts it
// back instead of taking it (or dropping it: the owner may have died
// before storing it), and the owner's next look acknowledges it.
func TestARedeliveryAfterTheAckWaitIsNotTakenTwice(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	f.AckWait = time.Second
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if _, _, err := a.conn.Submit(ctx, work("msg_1", Route{}), "", ""); err != nil {
		t.Fatal(err)
	}
	// Host a: pulled and claimed; then frozen before it stored or acked.
	pa := a.conn.Puller(a.claims, a)
	cons, err := pa.consumer(ctx, Route{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	m := <-batch.Messages()
	var w Work
	json.Unmarshal(m.Data(), &w)
	if _, err := a.claims.Take(ctx, w); err != nil {
		t.Fatal(err)
	}
	// Host b gets the redelivery once the ack wait ran out, and puts it back.
	var wg sync.WaitGroup
	run := func(h *host) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.conn.Puller(h.claims, h).Run(ctx, func() Room { return Room{1, []Capacity{{Route{}, 1}}} }, nil)
		}()
	}
	run(b)
	eventually(t, "b saw a's claim", func() bool { return testutil.ToFloat64(b.conn.m.claimsLost) >= 1 })
	// Host a resumes: the work comes back to it and it takes it, once.
	run(a)
	eventually(t, "a took it", func() bool { return len(a.taken()) == 1 })
	eventually(t, "the stream emptied", func() bool { return streamMsgs(t, a.conn) == 0 })
	cancel()
	wg.Wait()
	if got := b.taken(); len(got) != 0 {
		t.Fatalf("host b took %v, which host a holds", got)
	}
}

// Work that finished on its host is not taken again from a late copy.
func TestALateCopyOfFinishedWorkIsDropped(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx := t.Context()
	w := work("msg_1", Route{})
	if _, err := a.claims.Take(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := a.claims.Finish(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.claims.Take(ctx, w); !errors.Is(err, ErrFinished) {
		t.Fatalf("taking finished work: %v", err)
	}
	if h, st, err := b.claims.Holder(ctx, w.ID); h != "a" || st != Done || err != nil {
		t.Fatalf("holder after the late copy: %q %s %v", h, st, err)
	}
}

// Release hands back only what provably never reached a modem, and the
// host that comes back must not send what was released.
func TestReleaseHandsBackTakenWorkOnly(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx := t.Context()
	for _, id := range []string{"msg_taken", "msg_sending"} {
		if _, err := a.claims.Take(ctx, work(id, Route{Operator: "25001"})); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.claims.StartSending(ctx, "msg_sending"); err != nil {
		t.Fatal(err)
	}
	released, err := b.claims.Release(ctx, "a")
	if err != nil || !slices.Equal(released, []string{"msg_taken"}) {
		t.Fatalf("released %v, %v", released, err)
	}
	// Host a comes back: the released work is no longer its to send.
	if err := a.claims.StartSending(ctx, "msg_taken"); !errors.Is(err, ErrReleased) {
		t.Fatalf("a sending released work: %v", err)
	}
	// Host b takes the released work from the stream.
	ctx2, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.conn.Puller(b.claims, b).Run(ctx2, func() Room { return Room{1, []Capacity{{Route{Operator: "25001"}, 1}}} }, nil)
	}()
	eventually(t, "b takes the released work", func() bool { return len(b.taken()) == 1 })
	cancel()
	<-done
	if err := b.claims.StartSending(ctx, "msg_taken"); err != nil {
		t.Fatalf("b sending what it took: %v", err)
	}
	left, err := b.claims.OnHost(ctx, "a")
	if err != nil || len(left) != 1 || left[0].Work.ID != "msg_sending" || left[0].State != Sending {
		t.Fatalf("left on a: %+v, %v", left, err)
	}
	if err := a.claims.Finish(ctx, "msg_sending"); err != nil {
		t.Fatal(err)
	}
	if h, st, err := b.claims.Holder(ctx, "msg_sending"); h != "a" || st != Done || err != nil {
		t.Fatalf("finished: holder %q %s, %v", h, st, err)
	}
}

// A release lists the host's claims, then writes each; a host that was
// only paused may move a listed claim to sending in between and send its
// PDU. The release leaves that claim, and one finished meanwhile, alone:
// written over, the work would go out from another host too.
func TestAReleaseLeavesWhatItsHostMovedAfterTheListing(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx := t.Context()
	for _, id := range []string{"msg_sending", "msg_finished", "msg_taken"} {
		if _, err := a.claims.Take(ctx, work(id, Route{})); err != nil {
			t.Fatal(err)
		}
	}
	listed, err := b.claims.OnHost(ctx, "a")
	if err != nil || len(listed) != 3 {
		t.Fatalf("listed %+v, %v", listed, err)
	}
	for _, id := range []string{"msg_sending", "msg_finished"} {
		if err := a.claims.StartSending(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.claims.Finish(ctx, "msg_finished"); err != nil {
		t.Fatal(err)
	}
	released, err := b.claims.release(ctx, listed)
	if err != nil || !slices.Equal(released, []string{"msg_taken"}) {
		t.Fatalf("released %v, %v; want only msg_taken", released, err)
	}
	if h, st, err := b.claims.Holder(ctx, "msg_sending"); h != "a" || st != Sending || err != nil {
		t.Fatalf("the claim a is sending under: %q %s, %v", h, st, err)
	}
	if n := streamMsgs(t, b.conn); n != 1 {
		t.Fatalf("%d pieces of work published again, want 1 (msg_taken)", n)
	}
}

// The revision a host remembers from its take does not outlive a release:
// on a replicated bucket too (whose stale-revision answer is another code
// than a single node's), the host's late moves of the claim fail, and its
// finish does not note itself as the work's holder.
func TestARememberedClaimYieldsToARelease(t *testing.T) {
	nats := fleettest.Start(t, 3)
	f := fleetConfig(nats.URLs(), 3)
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx := t.Context()
	w := work("msg_r3", Route{})
	if _, err := a.claims.Take(ctx, w); err != nil {
		t.Fatal(err)
	}
	if released, err := b.claims.Release(ctx, "a"); err != nil || !slices.Equal(released, []string{w.ID}) {
		t.Fatalf("released %v, %v", released, err)
	}
	if _, err := b.claims.Take(ctx, w); err != nil {
		t.Fatalf("b taking released work: %v", err)
	}
	if err := a.claims.StartSending(ctx, w.ID); !errors.Is(err, ErrReleased) {
		t.Fatalf("a sending released work: %v", err)
	}
	if err := a.claims.Finish(ctx, w.ID); !errors.Is(err, ErrClaimedElsewhere) {
		t.Fatalf("a finishing released work: %v", err)
	}
	if h, st, err := a.claims.Holder(ctx, w.ID); h != "b" || st != Taken || err != nil {
		t.Fatalf("holder: %q %s, %v", h, st, err)
	}
	if err := b.claims.StartSending(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if errs := b.claims.FinishAll(ctx, []string{w.ID}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if _, err := a.claims.Take(ctx, w); !errors.Is(err, ErrFinished) {
		t.Fatalf("a late copy: %v", err)
	}
}

// Work a host claimed but could not store goes back to the fleet.
func TestWorkAHostCannotStoreGoesToAnother(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	a.fail = errors.New("disk full")
	ctx, cancel := context.WithCancel(t.Context())
	if _, _, err := a.conn.Submit(ctx, work("msg_1", Route{}), "", ""); err != nil {
		t.Fatal(err)
	}
	pa := a.conn.Puller(a.claims, a)
	if took, err := pa.pullOnce(ctx, Route{}, 1, time.Second); took != 0 || err != nil {
		t.Fatalf("a took %d, %v", took, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.conn.Puller(b.claims, b).Run(ctx, func() Room { return Room{1, []Capacity{{Route{}, 1}}} }, nil)
	}()
	eventually(t, "b takes it", func() bool { return len(b.taken()) == 1 })
	cancel()
	<-done
}

// A confirmation's id is the payment core's: ':' and dots, which a KV key
// refuses or reads as levels, still name one claim, one finished note and
// one accepted record, each its own.
func TestIdsOfAnySpellingHaveTheirOwnClaims(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx := t.Context()
	ids := []string{"pay:42", "pay.42", "..x", "=", "x7061793a3432"}
	for _, id := range ids {
		w := work(id, Route{})
		w.Kind = KindConfirmation
		if _, _, err := a.conn.Submit(ctx, w, id, "fp"); err != nil {
			t.Fatalf("submit %q: %v", id, err)
		}
		if got, err := b.conn.Accepted(ctx, id); err != nil || got.ID != id || got.Kind != KindConfirmation {
			t.Fatalf("accepted %q: %+v, %v", id, got, err)
		}
		if _, err := a.claims.Take(ctx, w); err != nil {
			t.Fatalf("take %q: %v", id, err)
		}
		if err := a.claims.StartSending(ctx, id); err != nil {
			t.Fatalf("sending %q: %v", id, err)
		}
	}
	held, err := b.claims.OnHost(ctx, "a")
	if err != nil || len(held) != len(ids) {
		t.Fatalf("held by a: %d, %v; want %d", len(held), err, len(ids))
	}
	for _, id := range ids {
		if err := a.claims.Finish(ctx, id); err != nil {
			t.Fatalf("finish %q: %v", id, err)
		}
		if h, st, err := b.claims.Holder(ctx, id); h != "a" || st != Done || err != nil {
			t.Fatalf("holder of %q: %q %s %v", id, h, st, err)
		}
	}
}

// A read of work no host took yet waits for the first host that takes it.
func TestAwaitHolderWakesWhenAHostTakesTheWork(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx := t.Context()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if h, _, err := b.claims.AwaitHolder(short, "pay:1"); h != "" || err != nil {
		t.Fatalf("nobody took it: %q, %v", h, err)
	}
	type answer struct {
		host  string
		state ClaimState
		err   error
	}
	got := make(chan answer, 1)
	watching := make(chan struct{})
	go func() {
		close(watching)
		h, st, err := b.claims.AwaitHolder(ctx, "pay:1")
		got <- answer{h, st, err}
	}()
	<-watching
	if _, err := a.claims.Take(ctx, work("pay:1", Route{})); err != nil {
		t.Fatal(err)
	}
	if g := <-got; g.host != "a" || g.state != Taken || g.err != nil {
		t.Fatalf("holder: %+v", g)
	}
}

// An ended claim's marker expires, so the claims every host surveys are
// only work in flight, not every piece finished in the bucket's 30 days;
// a late copy of finished work is still refused after its marker went,
// from the note of where it finished.
func TestAnEndedClaimLeavesNoLastingMarker(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx := t.Context()
	finished, dropped, open := work("msg_done", Route{}), work("msg_dropped", Route{}), work("msg_open", Route{})
	revs, errs := a.claims.TakeAll(ctx, []Work{finished, dropped, open})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := a.claims.StartSending(ctx, finished.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.claims.Finish(ctx, finished.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.claims.Drop(ctx, dropped.ID, revs[1]); err != nil {
		t.Fatal(err)
	}
	stream, err := a.conn.js.Stream(ctx, "KV_"+f.Names.ClaimsBucket)
	if err != nil {
		t.Fatal(err)
	}
	claimSubjects := func() map[string]uint64 {
		info, err := stream.Info(ctx, jetstream.WithSubjectFilter("$KV."+f.Names.ClaimsBucket+".c.>"))
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Subjects
	}
	if got := claimSubjects(); len(got) != 3 {
		t.Fatalf("claim subjects right after the ends: %v, want the open claim and two markers", got)
	}
	eventually(t, "the markers expire", func() bool { return len(claimSubjects()) == 1 })
	if got := claimSubjects(); got["$KV."+f.Names.ClaimsBucket+".c.msg_open"] != 1 {
		t.Fatalf("claim subjects after the markers expired: %v, want the open claim alone", got)
	}
	if claims, err := b.claims.OnHost(ctx, "a"); err != nil || len(claims) != 1 || claims[0].Work.ID != open.ID {
		t.Fatalf("a's claims: %+v, %v", claims, err)
	}

	// A late copy meets the finish note.
	if _, err := b.claims.Take(ctx, finished); !errors.Is(err, ErrFinished) {
		t.Fatalf("taking a late copy of finished work after its marker expired: %v", err)
	}
	if h, st, err := b.claims.Holder(ctx, finished.ID); h != "a" || st != Done || err != nil {
		t.Fatalf("holder of the finished work: %q %s %v", h, st, err)
	}
	// Dropped work is anyone's.
	if _, err := b.claims.Take(ctx, dropped); err != nil {
		t.Fatalf("taking dropped work: %v", err)
	}
}

// A claim written on finished work after its marker went (a write held up
// by a paused host) and then released is not taken again: the note of
// where it finished is read after the claim's update.
func TestFinishedWorkIsNotTakenAgainFromAStrayClaim(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx := t.Context()
	stray := work("msg_stray", Route{})
	if _, err := a.claims.Take(ctx, stray); err != nil {
		t.Fatal(err)
	}
	if err := a.claims.Finish(ctx, stray.ID); err != nil {
		t.Fatal(err)
	}
	kv, err := a.claims.bucket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Host c's held-up claim lands once the marker went, and c is released.
	late, _ := json.Marshal(Claim{Host: "c", HostID: "id-c", State: Taken, At: time.Now(), Work: stray})
	eventually(t, "the marker expires", func() bool {
		_, err := kv.Update(ctx, claimKey(stray.ID), late, 0)
		return err == nil
	})
	if released, err := b.claims.Release(ctx, "c"); err != nil || len(released) != 1 {
		t.Fatalf("release of c: %v, %v", released, err)
	}
	if _, err := b.claims.Take(ctx, stray); !errors.Is(err, ErrFinished) {
		t.Fatalf("taking released finished work: %v", err)
	}
	if h, st, err := b.claims.Holder(ctx, stray.ID); h != "a" || st != Done || err != nil {
		t.Fatalf("holder of the finished work: %q %s %v", h, st, err)
	}
}
