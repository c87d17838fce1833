package fleet

import (
	"context"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// countEvery is how long a count of waiting work serves the plans. Work
// that arrives meanwhile is met by the routes' long polls.
const countEvery = 100 * time.Millisecond

// pending counts the work waiting on each route this host could serve, by
// route subject, in one request to the stream (a request per route's
// consumer, with a route per modem and per SIM, cost the cluster more than
// the work itself). Work delivered to a host and not yet acknowledged
// still counts: a pull for it finds nothing and ends after its short wait.
func (p *Puller) pending(ctx context.Context) map[string]int {
	p.mu.Lock()
	if p.counted != nil && time.Since(p.countedAt) < countEvery {
		defer p.mu.Unlock()
		return p.counted
	}
	p.mu.Unlock()
	pending := p.count(ctx)
	p.mu.Lock()
	p.counted, p.countedAt = pending, time.Now()
	p.mu.Unlock()
	return pending
}

func (p *Puller) count(ctx context.Context) map[string]int {
	pending := map[string]int{}
	stream, err := p.stream(ctx)
	if err != nil {
		return pending
	}
	prefix := p.c.cfg.Names.Subject + ".work."
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(prefix+">"))
	if err != nil {
		p.log.Warn("fleet: counting waiting work", "err", err)
		return pending
	}
	for subj, n := range info.State.Subjects {
		// <prefix><kind>.<route>
		_, route, ok := strings.Cut(strings.TrimPrefix(subj, prefix), ".")
		if ok {
			pending[route] += int(n)
		}
	}
	return pending
}

func (p *Puller) stream(ctx context.Context) (jetstream.Stream, error) {
	p.mu.Lock()
	s := p.work
	p.mu.Unlock()
	if s != nil {
		return s, nil
	}
	s, err := p.c.js.Stream(ctx, p.c.cfg.Names.WorkStream)
	if err != nil {
		return nil, unavailable("opening the work stream", err)
	}
	p.mu.Lock()
	p.work = s
	p.mu.Unlock()
	return s, nil
}
