package store

import (
	"context"
	"strings"
	"sync"
)

// LogEnd is the event log's committed end: the id of the newest event that
// is on disk. The writer advances it right after a commit and before it
// tells the committing callers, so whatever a caller has learned is durable
// is already announced, and nothing is announced that a crash could take
// back. It only ever grows. Safe for concurrent use; advancing never blocks
// the writer.
type LogEnd struct {
	mu   sync.Mutex
	last int64
	grew chan struct{} // closed and replaced at each growth
	// of holds, per filter ChangedOf was asked for, the channel closed at
	// the next growth with an event the filter selects; the entry goes
	// with it and the next ChangedOf makes a new one, so there are never
	// more entries than filters in the code.
	of map[string]*growthOf
}

type growthOf struct {
	types EventTypes
	grew  chan struct{}
}

func newLogEnd(last int64) *LogEnd {
	return &LogEnd{last: last, grew: make(chan struct{}), of: map[string]*growthOf{}}
}

// Last is the id of the newest durable event, 0 for an empty log.
func (l *LogEnd) Last() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Changed returns the end now and a channel closed when it grows past it.
// Take it before reading the log: growth between the read and the wait then
// closes the channel instead of being missed.
func (l *LogEnd) Changed() (last int64, grew <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last, l.grew
}

// ChangedOf is Changed for a follower that cares only about some event
// types: the channel is closed when a commit adds an event that types
// selects, and not for commits of other events. A confirmation follower so
// sleeps through the send path's commits.
func (l *LogEnd) ChangedOf(types EventTypes) (last int64, grew <-chan struct{}) {
	if len(types) == 0 {
		return l.Changed()
	}
	key := strings.Join(types, "\x00")
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.of[key]
	if g == nil {
		g = &growthOf{types: types, grew: make(chan struct{})}
		l.of[key] = g
	}
	return l.last, g.grew
}

// Wait returns the end once it is past after, or ctx's error.
func (l *LogEnd) Wait(ctx context.Context, after int64) (int64, error) {
	for {
		last, grew := l.Changed()
		if last > after {
			return last, nil
		}
		select {
		case <-grew:
		case <-ctx.Done():
			return last, ctx.Err()
		}
	}
}

// advance moves the end to n after a commit that added events of types.
func (l *LogEnd) advance(n int64, types []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n <= l.last {
		return
	}
	l.last = n
	close(l.grew)
	l.grew = make(chan struct{})
	for key, g := range l.of {
		for _, typ := range types {
			if g.types.Match(typ) {
				close(g.grew)
				delete(l.of, key)
				break
			}
		}
	}
}
