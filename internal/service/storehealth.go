package service

import (
	"context"
	"errors"
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

// settles holds bookkeeping writes of the send path that failed on a store
// fault. They record what a modem already did (a part went out, or did not),
// so they are not dropped: they are written once the store takes writes
// again. A stop before that leaves the part "sending", which the next start
// reports as unknown, never resends.
type settles struct {
	mu      sync.Mutex
	pending []settle
	added   chan struct{}
}

type settle struct {
	what  string
	write func(context.Context) error
}

func newSettles() *settles { return &settles{added: make(chan struct{}, 1)} }

// settleLater keeps write for when the store recovers.
func (d *Service) settleLater(what string, write func(context.Context) error) {
	d.settles.mu.Lock()
	d.settles.pending = append(d.settles.pending, settle{what, write})
	d.settles.mu.Unlock()
	select {
	case d.settles.added <- struct{}{}:
	default:
	}
}

// runSettles tries every pending write once, in the order they failed, and
// keeps those that fail again. It reports whether any is left.
func (d *Service) runSettles(ctx context.Context) bool {
	d.settles.mu.Lock()
	todo := d.settles.pending
	d.settles.pending = nil
	d.settles.mu.Unlock()
	var left []settle
	for i, s := range todo {
		err := s.write(ctx)
		if err == nil {
			d.log.Info("recorded a send outcome the store had refused", "write", s.what)
			continue
		}
		if !errors.Is(err, store.ErrUnavailable) {
			d.log.Error("recording a send outcome the store had refused", "write", s.what, "err", err)
			continue
		}
		left = append(left, todo[i:]...)
		break
	}
	d.settles.mu.Lock()
	d.settles.pending = append(left, d.settles.pending...)
	n := len(d.settles.pending)
	d.settles.mu.Unlock()
	return n > 0
}

// runStoreHealth follows the store's health: it logs and records a failure
// and the recovery, probes with a real write while the store fails (a freed
// disk is noticed without waiting for traffic) and when it has been idle,
// and writes the send path's pending bookkeeping once writes commit again.
func (d *Service) runStoreHealth(ctx context.Context) {
	var failing, failNoted bool
	var fault StoreFault
	var failuresBefore uint64 // the store's failure count when it last committed
	for {
		changed := d.store.HealthChanged()
		h := d.store.Health()
		switch {
		case h.Err != nil && !failing:
			failing, failNoted = true, false
			fault = StoreFault{Error: h.Err.Error(), FailedAt: h.Since, FailedWrites: h.Failures - failuresBefore}
			d.log.Error("the store cannot write: requests that write are refused until it can", "err", h.Err)
			// Often refused too (a full disk); then written on recovery.
			failNoted = d.store.FaultEvent(ctx, "store.failed", fault) == nil
		case h.Err == nil && failing:
			failing = false
			fault.FailedWrites = h.Failures - failuresBefore
			if !failNoted {
				d.store.FaultEvent(ctx, "store.failed", fault)
			}
			at := h.Since
			fault.RecoveredAt = &at
			if err := d.store.FaultEvent(ctx, "store.recovered", fault); err != nil {
				d.log.Error("record store recovery", "err", err)
			}
			d.log.Info("the store writes again", "failed_for", at.Sub(fault.FailedAt).Round(time.Millisecond), "failed_writes", fault.FailedWrites)
		}
		pending := false
		if !failing {
			failuresBefore = h.Failures
			pending = d.runSettles(ctx)
		}
		wait := storeIdleProbe
		if failing || pending {
			wait = d.storeRetry
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-changed:
		case <-d.settles.added:
		case <-timer.C:
			if failing || d.now().Sub(d.store.Stats().LastCommit) >= storeIdleProbe {
				d.store.Probe(ctx)
			}
		}
		timer.Stop()
		if ctx.Err() != nil {
			return
		}
	}
}
