package store

import (
	"context"
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
}

func newLogEnd(last int64) *LogEnd { return &LogEnd{last: last, grew: make(chan struct{})} }

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

func (l *LogEnd) advance(n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n > l.last {
		l.last = n
		close(l.grew)
		l.grew = make(chan struct{})
	}
}
