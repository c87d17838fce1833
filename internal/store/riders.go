package store

import (
	"sync"
	"sync/atomic"
	"time"
)

// WriteAlong queues fn like WriteAsync, but on a busy store starts no
// commit for it: fn rides with the next transaction any other write
// starts, ahead of that write, or commits alone once it has waited
// Options.RiderWait. It is for records nobody waits on, such as a sent part
// whose modem went idle: on a busy host they share another write's fsync
// instead of paying their own. A store is busy while its commits come less
// than a fifth of RiderWait apart on average; on a quiet one, a rider
// would wake the process a second time, later, which costs more than the
// fsync it saves, so fn is queued as WriteAsync queues it. A rider commits
// no later than the writes queued after it.
func (s *Store) WriteAlong(fn func(*Tx) error, then func(error)) {
	if !s.riders.busy() {
		s.WriteAsync(fn, then)
		return
	}
	s.whileOpen(then, func() { s.riders.add(&writeOp{fn: fn, then: then}) })
}

// riders are the writes waiting for the next commit (WriteAlong), with
// what tells whether the store commits often enough for them.
type riders struct {
	wait time.Duration // Options.RiderWait
	mu   sync.Mutex
	ops  []*writeOp
	due  *time.Timer // runs, under mu, from the first rider until they are taken
	// gap is the mean time between commits, in nanoseconds (wait, before
	// any); lastCommit is the last one's time, the writer's alone.
	gap        atomic.Int64
	lastCommit time.Time
}

func newRiders(wait time.Duration) *riders {
	r := &riders{wait: wait, due: time.NewTimer(time.Hour)}
	r.due.Stop()
	r.gap.Store(int64(wait)) // quiet until commits show otherwise
	return r
}

func (r *riders) busy() bool { return time.Duration(r.gap.Load()) <= r.wait/5 }

func (r *riders) add(op *writeOp) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ops) == 0 {
		// A timer, not a word to the writer: waking it now to wait would
		// cost what the ride saves.
		r.due.Reset(r.wait)
	}
	r.ops = append(r.ops, op)
}

// take puts the waiting riders ahead of batch.
func (r *riders) take(batch []*writeOp) []*writeOp {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ops) == 0 {
		return batch
	}
	r.due.Stop()
	out := append(r.ops, batch...)
	r.ops = nil
	return out
}

// noteCommit keeps the mean time between commits. A gap counts at most
// wait, so that a quiet spell does not keep a store that turns busy quiet
// for long.
func (r *riders) noteCommit() {
	now := time.Now()
	if !r.lastCommit.IsZero() {
		gap := int64(min(now.Sub(r.lastCommit), r.wait))
		mean := r.gap.Load()
		r.gap.Store(mean - mean/8 + gap/8)
	}
	r.lastCommit = now
}
