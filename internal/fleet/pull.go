package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Room is what this host can start now: Free lanes in all, and per route
// how many of them that route's work may use (after SIM limits, pins and
// suspect SIMs). A lane counts once in Free even when several routes may
// use it (a SIM of MTS serves "any" and "op.25001").
type Room struct {
	Free   int
	Routes []Capacity
}

// Capacity is how many of the free lanes one route's work may use.
type Capacity struct {
	Route Route
	Free  int
}

// Taker stores claimed work on this host, idempotent by id: a host that
// restarted between storing and acking stores it again without a copy.
// TakeAll stores a batch, as far as it can in one transaction, and returns
// each piece's error.
type Taker interface {
	TakeAll(ctx context.Context, ws []Work) []error
}

// Puller takes work from the fleet for this host, never more than its
// ready lanes can start now, so no host sits on work others could serve.
type Puller struct {
	c      *Conn
	claims *Claims
	take   Taker
	log    *slog.Logger
	// wait bounds one pull: a route's goroutine re-reads capacity after it.
	wait time.Duration

	mu sync.Mutex
	// promised counts the lanes promised to open pulls: capacity does not
	// drop until the work arrives, so two routes must not count one lane.
	promised int
	cons     map[string]jetstream.Consumer
	work     jetstream.Stream
	pulls    map[string]bool // routes with a goroutine pulling
	// dry are routes whose waiting work a pull did not find at once (other
	// hosts hold it unacknowledged, or it is put back for a while): their
	// next pull waits a little for it.
	dry map[string]bool
	// counted is the last count of waiting work and when it was made: a
	// plan follows every pull's end, and under load a count each time cost
	// the cluster more than the pulls.
	counted   map[string]int
	countedAt time.Time
}

// Puller returns a puller that claims as this host and stores through take.
func (c *Conn) Puller(claims *Claims, take Taker) *Puller {
	return &Puller{c: c, claims: claims, take: take, log: c.log, wait: time.Second,
		cons: map[string]jetstream.Consumer{}, pulls: map[string]bool{}, dry: map[string]bool{}}
}

// Run pulls until ctx ends. room is read again whenever the channel that
// changed returns is closed, and whenever a pull ends. Pulls never ask for
// more lanes in all than the host has free (plan says who gets them).
func (p *Puller) Run(ctx context.Context, room func() Room, changed func() <-chan struct{}) {
	var wg sync.WaitGroup
	defer wg.Wait()
	ended := make(chan struct{}, 1)
	for {
		var grew <-chan struct{}
		if changed != nil {
			grew = changed() // before room(): a change after it still wakes
		}
		for _, pl := range p.plan(ctx, room()) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				took, err := p.pullOnce(ctx, pl.route, pl.n, pl.wait)
				p.mu.Lock()
				p.dry[pl.route.Subject()] = took == 0 && pl.wait == 0
				p.mu.Unlock()
				if err != nil && ctx.Err() == nil {
					p.log.Warn("fleet: pulling work", "route", pl.route.Subject(), "err", err)
					p.c.gone.note(err)
					p.forget(pl.route, err)
					select {
					case <-ctx.Done():
					case <-time.After(p.wait):
					}
				}
				p.mu.Lock()
				p.promised -= pl.n
				delete(p.pulls, pl.route.Subject())
				p.mu.Unlock()
				select {
				case ended <- struct{}{}:
				default:
				}
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-grew:
		case <-ended:
		}
	}
}

type pull struct {
	route Route
	n     int
	wait  time.Duration // 0: take what waits now, without waiting
}

// plan hands the lanes no open pull was promised to the routes that are
// not pulling now, and records the promises. Work already waiting gets
// lanes first, pinned routes before wider ones (only this host, or few,
// can take theirs), taken at once without waiting for more. Then each
// idle route gets one lane for a long poll, widest first: most work names
// no modem, and a host with fewer lanes than routes must still meet it at
// once.
func (p *Puller) plan(ctx context.Context, rm Room) []pull {
	routes := slices.Clone(rm.Routes)
	slices.SortStableFunc(routes, func(a, b Capacity) int { return specificity(b.Route) - specificity(a.Route) })
	if !p.canPull(rm) {
		// Every lane is promised or every route pulls: nothing to count.
		return nil
	}
	pending := p.pending(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []pull
	left := rm.Free - p.promised
	take := func(c Capacity, n int, wait time.Duration) int {
		n = max(0, min(n, c.Free, left))
		if n == 0 {
			return 0
		}
		p.pulls[c.Route.Subject()] = true
		p.promised += n
		left -= n
		out = append(out, pull{c.Route, n, wait})
		return n
	}
	// unmet counts the lanes waiting work could use beyond those this
	// plan gave it: its route is pulling already, or the lanes ran out.
	unmet := 0
	for _, c := range routes {
		k := c.Route.Subject()
		if pending[k] == 0 {
			continue
		}
		n := 0
		if !p.pulls[k] {
			wait := time.Duration(0)
			if p.dry[k] {
				// Short, so that hosts waiting for the same work ask
				// at different moments, and one that holds it (waking
				// from a pause) gets it back soon.
				wait = p.wait / 10
			}
			n = take(c, pending[k], wait)
		}
		if !p.dry[k] {
			unmet += max(0, min(pending[k], c.Free)-n)
		}
	}
	// Long polls get only the lanes waiting work cannot use: a lane
	// promised to a long poll of an idle route is held for up to its wait,
	// and under load most lanes sat in polls that found nothing while
	// work waited for them (and each poll of a filtered consumer behind
	// the stream costs the cluster a replicated write). The waiting work
	// gets them when its route's pull ends; work that comes to an idle
	// route meanwhile is found by the next count, at most countEvery old.
	left -= min(left, unmet)
	for _, c := range slices.Backward(routes) {
		if k := c.Route.Subject(); !p.pulls[k] {
			take(c, 1, p.wait)
		}
	}
	return out
}

// canPull says whether a lane is left for a route that is not pulling.
func (p *Puller) canPull(rm Room) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rm.Free-p.promised <= 0 {
		return false
	}
	for _, c := range rm.Routes {
		if c.Free > 0 && !p.pulls[c.Route.Subject()] {
			return true
		}
	}
	return false
}

func specificity(r Route) int {
	switch {
	case r.SIM != "" || r.Modem != "":
		return 2
	case r.Operator != "":
		return 1
	}
	return 0
}

func (p *Puller) consumer(ctx context.Context, r Route) (jetstream.Consumer, error) {
	p.mu.Lock()
	cons, ok := p.cons[r.Subject()]
	p.mu.Unlock()
	if ok {
		return cons, nil
	}
	cfg := jetstream.ConsumerConfig{
		Durable:       r.consumer(),
		FilterSubject: p.c.cfg.Names.Subject + ".work.*." + r.Subject(),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       p.c.cfg.AckWait,
		MaxDeliver:    -1,
	}
	if r != (Route{}) {
		// Pinned routes come and go with SIMs; the cluster forgets them.
		cfg.InactiveThreshold = 24 * time.Hour
	}
	cons, err := p.c.js.CreateOrUpdateConsumer(ctx, p.c.cfg.Names.WorkStream, cfg)
	if err != nil {
		return nil, unavailable("opening consumer "+cfg.Durable, err)
	}
	p.mu.Lock()
	p.cons[r.Subject()] = cons
	p.mu.Unlock()
	return cons, nil
}

// forget drops the consumer of r when the cluster does not have it: the
// cluster deleted a pinned route's consumer idle for a day, or lost it
// with its stream. The next pull creates it again; a cached one that is
// gone would fail every pull.
func (p *Puller) forget(r Route, err error) {
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrConsumerDeleted) || gone(err) {
		p.mu.Lock()
		delete(p.cons, r.Subject())
		p.mu.Unlock()
	}
}

// pullOnce fetches up to n pieces of work and handles each; it returns how
// many this host took.
func (p *Puller) pullOnce(ctx context.Context, r Route, n int, wait time.Duration) (int, error) {
	cons, err := p.consumer(ctx, r)
	if err != nil {
		return 0, err
	}
	var batch jetstream.MessageBatch
	if wait == 0 {
		batch, err = cons.FetchNoWait(n)
	} else {
		batch, err = cons.Fetch(n, jetstream.FetchMaxWait(wait))
	}
	if err != nil {
		return 0, unavailable("pulling", err)
	}
	// What has arrived is handled together, and what arrives meanwhile
	// after it: the claims of a batch go out at once, the store commits
	// its pieces in one transaction, and nothing waits for the rest of a
	// batch that may never come.
	took := 0
	msgs := batch.Messages()
	for m := range msgs {
		got := []jetstream.Msg{m}
	more:
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					break more
				}
				got = append(got, m)
			default:
				break more
			}
		}
		took += p.handle(ctx, got)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
		return took, unavailable("pulling", err)
	}
	return took, nil
}

// handle claims, stores and acks pieces of work (docs/fleet-plan.md §3).
// It returns how many this host took.
func (p *Puller) handle(ctx context.Context, got []jetstream.Msg) int {
	var ms []jetstream.Msg
	var ws []Work
	for _, m := range got {
		var w Work
		if err := json.Unmarshal(m.Data(), &w); err != nil || w.ID == "" {
			p.log.Error("fleet: work that is not a gsmbridge request; dropping it", "subject", m.Subject(), "err", err)
			m.Term()
			continue
		}
		ms, ws = append(ms, m), append(ws, w)
	}
	revs, errs := p.claims.TakeAll(ctx, ws)
	var claimed []int // of ms and ws
	for i, err := range errs {
		m, w := ms[i], ws[i]
		switch {
		case err == nil:
			claimed = append(claimed, i)
		case errors.Is(err, ErrFinished):
			m.Ack()
		case errors.Is(err, ErrClaimedElsewhere):
			// Another host claimed it and did not acknowledge: it is slow
			// or paused (its late ack ends this), or it died between its
			// claim and its store (only it can take the work back, when it
			// returns). Put back for a while, never dropped: dropping
			// would lose the work.
			p.c.m.claimsLost.Inc()
			m.NakWithDelay(p.c.cfg.AckWait)
		default:
			p.log.Warn("fleet: claiming work", "id", w.ID, "err", err)
			m.Nak()
		}
	}
	if len(claimed) == 0 {
		return 0
	}
	take := make([]Work, len(claimed))
	for j, i := range claimed {
		take[j] = ws[i]
	}
	stored := p.take.TakeAll(ctx, take)
	took := 0
	for j, i := range claimed {
		m, w := ms[i], ws[i]
		if err := stored[j]; err != nil {
			p.log.Error("fleet: storing claimed work; handing it back", "id", w.ID, "err", err)
			if err := p.claims.Drop(ctx, w.ID, revs[i]); err != nil {
				// The claim stays: the next delivery finds it is ours and
				// tries again here.
				p.log.Warn("fleet: dropping a claim", "id", w.ID, "err", err)
			}
			m.Nak()
			continue
		}
		// Not waiting for the cluster to confirm the ack: the pull ends,
		// and its lanes go to the next one, a round trip sooner. An ack
		// lost on the way is safe: the work comes back after the ack
		// wait, finds the claim ours (or finished) and is not doubled,
		// since Take is idempotent and the store keeps one copy per id.
		if err := m.Ack(); err != nil {
			p.log.Warn("fleet: acking taken work", "id", w.ID, "err", err)
		}
		p.c.m.pulled.Inc()
		took++
	}
	return took
}
