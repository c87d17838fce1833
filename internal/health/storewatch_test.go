package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/store"
)

// faultStore is a store whose health the test sets; what the watch does to
// it arrives on calls, in order.
type faultStore struct {
	calls chan string

	mu      sync.Mutex
	h       store.Health
	changed chan struct{}
	refuse  bool // FaultEvent fails as on a full disk
	faults  []StoreFault
}

func newFaultStore() *faultStore {
	return &faultStore{calls: make(chan string, 100), changed: make(chan struct{})}
}

func (f *faultStore) set(h store.Health, refuse bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.h, f.refuse = h, refuse
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *faultStore) Health() store.Health {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.h
}

func (f *faultStore) HealthChanged() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *faultStore) FaultEvent(_ context.Context, typ string, payload any) error {
	f.mu.Lock()
	refuse := f.refuse
	if !refuse {
		f.faults = append(f.faults, payload.(StoreFault))
	}
	f.mu.Unlock()
	if refuse {
		f.calls <- typ + " refused"
		return store.ErrFull
	}
	f.calls <- typ
	return nil
}

func (f *faultStore) Probe(context.Context) error {
	f.calls <- "probe"
	return nil
}

// Stats says the store just committed: no idle probe.
func (f *faultStore) Stats() store.WriterStats { return store.WriterStats{LastCommit: time.Now()} }

// next returns the next call that is not a probe, and how many probes came
// before it.
func (f *faultStore) next(t *testing.T) (call string, probes int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case c := <-f.calls:
			if c != "probe" {
				return c, probes
			}
			probes++
		case <-timeout:
			t.Fatalf("nothing more happened after %d probes", probes)
		}
	}
}

// A full disk: the failure cannot be recorded when it begins, so it is
// recorded with the recovery; probes look for the recovery meanwhile; the
// bookkeeping kept while it failed is written after it, in order, a write
// refused again is retried and one failing otherwise is dropped.
func TestStoreWatchRecordsAFailureAndSettlesAfterRecovery(t *testing.T) {
	f := newFaultStore()
	w := NewStoreWatch(f, StoreWatchOptions{Retry: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()

	failedAt := time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)
	f.set(store.Health{Err: store.ErrFull, Since: failedAt, Failures: 3}, true)
	if c, _ := f.next(t); c != "store.failed refused" {
		t.Fatalf("first call %q, want the refused store.failed", c)
	}
	tries := 0
	w.Later("part 1 sent", func(context.Context) error { f.calls <- "part 1"; return nil })
	w.Later("part 2 sent", func(context.Context) error {
		f.calls <- "part 2"
		if tries++; tries == 1 {
			return fmt.Errorf("begin: %w", store.ErrUnavailable)
		}
		return nil
	})
	w.Later("part 3 sent", func(context.Context) error { f.calls <- "part 3"; return errors.New("no such message") })
	if n := w.Pending(); n != 3 {
		t.Fatalf("%d writes pending, want 3", n)
	}
	// Only a probe can see a freed disk.
	for probes := 0; probes < 2; {
		if c := <-f.calls; c != "probe" {
			t.Fatalf("call %q while failing, want probes", c)
		}
		probes++
	}

	recoveredAt := failedAt.Add(time.Minute)
	f.set(store.Health{Since: recoveredAt, Failures: 5}, false)
	var got []string
	for range 6 {
		c, _ := f.next(t)
		got = append(got, c)
	}
	want := []string{"store.failed", "store.recovered", "part 1", "part 2", "part 2", "part 3"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after recovery: %q, want %q", got, want)
	}
	cancel()
	<-done
	if n := w.Pending(); n != 0 {
		t.Errorf("%d writes still pending, want none", n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	failed, recovered := f.faults[0], f.faults[1]
	if failed.Error != store.ErrFull.Error() || !failed.FailedAt.Equal(failedAt) || failed.RecoveredAt != nil || failed.FailedWrites != 5 {
		t.Errorf("store.failed %+v, want the full disk since %v, 5 failed writes", failed, failedAt)
	}
	if recovered.RecoveredAt == nil || !recovered.RecoveredAt.Equal(recoveredAt) || !recovered.FailedAt.Equal(failedAt) || recovered.FailedWrites != 5 {
		t.Errorf("store.recovered %+v, want recovered at %v after 5 failed writes", recovered, recoveredAt)
	}
}

// A store that records its failure when it begins records it once.
func TestStoreWatchRecordsTheFailureOnce(t *testing.T) {
	f := newFaultStore()
	f.h.Failures = 2 // lost before the watch started: not this failure's
	w := NewStoreWatch(f, StoreWatchOptions{Retry: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	// Once a pending write ran, the watch has seen the store healthy.
	w.Later("a write", func(context.Context) error { f.calls <- "a write"; return nil })
	if c, _ := f.next(t); c != "a write" {
		t.Fatalf("first call %q, want the pending write", c)
	}

	f.set(store.Health{Err: store.ErrReplaced, Since: time.Now(), Failures: 3}, false)
	if c, _ := f.next(t); c != "store.failed" {
		t.Fatalf("first call %q, want store.failed", c)
	}
	f.set(store.Health{Since: time.Now(), Failures: 4}, false)
	if c, probes := f.next(t); c != "store.recovered" {
		t.Fatalf("after recovery %q (after %d probes), want store.recovered alone", c, probes)
	}
	cancel()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.faults) != 2 || f.faults[0].FailedWrites != 1 || f.faults[1].FailedWrites != 2 {
		t.Errorf("faults %+v, want store.failed after 1 failed write and store.recovered after 2", f.faults)
	}
}
