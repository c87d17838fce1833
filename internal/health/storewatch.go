package health

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/store"
)

// storeRetry is how often, while the store fails, a probe write checks
// whether it takes writes again (a freed disk tells nobody) and how often
// bookkeeping writes that failed are tried again.
const storeRetry = 5 * time.Second

// storeIdleProbe: a healthy store that committed nothing for this long gets
// a probe write, so a disk filled or a database file deleted meanwhile turns
// /metrics and the alert red without waiting for traffic.
const storeIdleProbe = 30 * time.Second

// StoreFault is the payload of the store.failed and store.recovered
// events. store.failed is written when the store first takes a write again
// if it could not be written when the failure began (usually so on a full
// disk); failed_at always says when it began.
type StoreFault struct {
	Error        string     `json:"error"`
	FailedAt     time.Time  `json:"failed_at"`
	RecoveredAt  *time.Time `json:"recovered_at,omitempty"`
	FailedWrites uint64     `json:"failed_writes"` // so far; on store.recovered, all of them
}

// FaultStore is the store as StoreWatch follows it (*store.Store).
type FaultStore interface {
	Health() store.Health
	// HealthChanged is closed when Health changes.
	HealthChanged() <-chan struct{}
	// FaultEvent appends a store.* event with its payload.
	FaultEvent(ctx context.Context, typ string, payload any) error
	// Probe makes a real write through the store's writer.
	Probe(ctx context.Context) error
	Stats() store.WriterStats
}

// StoreWatchOptions are what NewStoreWatch needs beyond the store.
type StoreWatchOptions struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Retry replaces the 5 s between probes and retries while the store
	// fails (tests).
	Retry time.Duration
}

// StoreWatch follows the store's health: it logs and records a failure and
// the recovery, probes with a real write while the store fails (a freed
// disk is noticed without waiting for traffic) and when it has been idle,
// and writes the bookkeeping kept by Later once writes commit again. Safe
// for concurrent use.
type StoreWatch struct {
	store FaultStore
	log   *slog.Logger
	now   func() time.Time
	retry time.Duration

	mu      sync.Mutex
	pending []settle
	added   chan struct{}
}

// settle is a bookkeeping write the store refused.
type settle struct {
	what  string
	write func(context.Context) error
}

// NewStoreWatch follows st once Run runs.
func NewStoreWatch(st FaultStore, o StoreWatchOptions) *StoreWatch {
	w := &StoreWatch{store: st, log: o.Logger, now: o.Now, retry: o.Retry, added: make(chan struct{}, 1)}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.retry <= 0 {
		w.retry = storeRetry
	}
	return w
}

// Later keeps write, which failed on a store fault, for when the store
// takes writes again. The send path's bookkeeping records what a modem
// already did (a part went out, or did not), so it is not dropped. A stop
// before that leaves the part "sending", which the next start reports as
// unknown, never resends.
func (w *StoreWatch) Later(what string, write func(context.Context) error) {
	w.mu.Lock()
	w.pending = append(w.pending, settle{what, write})
	w.mu.Unlock()
	select {
	case w.added <- struct{}{}:
	default:
	}
}

// Pending says how many writes wait for the store.
func (w *StoreWatch) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

// runPending tries every pending write once, in the order they failed, and
// keeps those that fail again. It reports whether any is left.
func (w *StoreWatch) runPending(ctx context.Context) bool {
	w.mu.Lock()
	todo := w.pending
	w.pending = nil
	w.mu.Unlock()
	var left []settle
	for i, s := range todo {
		err := s.write(ctx)
		if err == nil {
			w.log.Info("recorded a send outcome the store had refused", "write", s.what)
			continue
		}
		if !errors.Is(err, store.ErrUnavailable) {
			w.log.Error("recording a send outcome the store had refused", "write", s.what, "err", err)
			continue
		}
		left = append(left, todo[i:]...)
		break
	}
	w.mu.Lock()
	w.pending = append(left, w.pending...)
	n := len(w.pending)
	w.mu.Unlock()
	return n > 0
}

// Run follows the store until ctx ends.
func (w *StoreWatch) Run(ctx context.Context) {
	var failing, failNoted bool
	var fault StoreFault
	var failuresBefore uint64 // the store's failure count when it last committed
	for {
		changed := w.store.HealthChanged()
		h := w.store.Health()
		switch {
		case h.Err != nil && !failing:
			failing, failNoted = true, false
			fault = StoreFault{Error: h.Err.Error(), FailedAt: h.Since, FailedWrites: h.Failures - failuresBefore}
			w.log.Error("the store cannot write: requests that write are refused until it can", "err", h.Err)
			// Often refused too (a full disk); then written on recovery.
			failNoted = w.store.FaultEvent(ctx, "store.failed", fault) == nil
		case h.Err == nil && failing:
			failing = false
			fault.FailedWrites = h.Failures - failuresBefore
			if !failNoted {
				w.store.FaultEvent(ctx, "store.failed", fault)
			}
			at := h.Since
			fault.RecoveredAt = &at
			if err := w.store.FaultEvent(ctx, "store.recovered", fault); err != nil {
				w.log.Error("record store recovery", "err", err)
			}
			w.log.Info("the store writes again", "failed_for", at.Sub(fault.FailedAt).Round(time.Millisecond), "failed_writes", fault.FailedWrites)
		}
		pending := false
		if !failing {
			failuresBefore = h.Failures
			pending = w.runPending(ctx)
		}
		wait := storeIdleProbe
		if failing || pending {
			wait = w.retry
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-changed:
		case <-w.added:
		case <-timer.C:
			if failing || w.now().Sub(w.store.Stats().LastCommit) >= storeIdleProbe {
				w.store.Probe(ctx)
			}
		}
		timer.Stop()
		if ctx.Err() != nil {
			return
		}
	}
}
