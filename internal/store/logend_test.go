package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Many writers commit events while waiters follow the end: every waiter
// reaches the final end, each end it is woken with is already readable by
// another connection (committed), and each writer, once its write returned,
// finds its event announced.
func TestLogEndWakesEveryWaiterOnlyForCommittedEvents(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	const writers, perWriter, waiters = 8, 25, 4
	final := int64(writers * perWriter)

	errs := make(chan error, writers+waiters)
	var wg sync.WaitGroup
	for w := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var seen int64
			for seen < final {
				last, err := s.LogEnd().Wait(ctx, seen)
				if err != nil {
					errs <- err
					return
				}
				if last <= seen {
					errs <- fmt.Errorf("waiter %d woken with %d after %d", w, last, seen)
					return
				}
				if _, err := s.Events.GetEvent(ctx, last); err != nil {
					errs <- fmt.Errorf("waiter %d woken with %d before it was committed: %w", w, last, err)
					return
				}
				seen = last
			}
			if seen != final {
				errs <- fmt.Errorf("waiter %d ended at %d, want %d", w, seen, final)
			}
		}()
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				var id int64
				err := s.Write(ctx, func(t *Tx) error {
					if err := appendEvent(t, "test.grew", "test", fmt.Sprint(w), i, nil); err != nil {
						return err
					}
					id = t.lastEvent
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
				if got := s.LogEnd().Last(); got < id {
					errs <- fmt.Errorf("write of event %d returned with the end at %d", id, got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if last, err := s.Events.LastEventID(ctx); err != nil || last != final || s.LogEnd().Last() != final {
		t.Fatalf("LastEventID %d (%v), LogEnd %d, want %d", last, err, s.LogEnd().Last(), final)
	}
}

// An op that fails is rolled back with its event, whose id the next event
// reuses: the end must not announce it.
func TestLogEndIgnoresRolledBackEvents(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	if err := s.Events.AppendEvent(ctx, "test.kept", "test", "a", 1, nil); err != nil {
		t.Fatal(err)
	}
	_, grew := s.LogEnd().Changed()
	refused := errors.New("refused")
	err := s.Write(ctx, func(t *Tx) error {
		if err := appendEvent(t, "test.lost", "test", "b", 1, nil); err != nil {
			return err
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("write: %v", err)
	}
	if last := s.LogEnd().Last(); last != 1 {
		t.Fatalf("end %d after a rolled-back event, want 1", last)
	}
	select {
	case <-grew:
		t.Fatal("woken by a rolled-back event")
	default:
	}
	if err := s.Events.AppendEvent(ctx, "test.kept", "test", "c", 1, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-grew:
	case <-time.After(10 * time.Second):
		t.Fatal("not woken by a committed event")
	}
	if last := s.LogEnd().Last(); last != 2 {
		t.Fatalf("end %d, want 2", last)
	}
}

// The end survives a restart: followers resuming from a cursor compare it
// with what is on disk, not with 0.
func TestLogEndStartsAtTheLogOnDisk(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		if err := s.Events.AppendEvent(ctx, "test.kept", "test", "a", i, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	if last := s.LogEnd().Last(); last != 3 {
		t.Fatalf("end %d after reopening, want 3", last)
	}
	wctx, cancel := context.WithCancel(ctx)
	cancel()
	if last, err := s.LogEnd().Wait(wctx, 2); err != nil || last != 3 {
		t.Fatalf("Wait after 2: %d %v, want 3 at once", last, err)
	}
	if _, err := s.LogEnd().Wait(wctx, 3); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after the end with a cancelled context: %v", err)
	}
}

// An asynchronous write's outcome comes after the commit, like a waiting
// write's: the event it appended is announced and readable by then.
func TestWriteAsyncReportsAfterTheCommitIsAnnounced(t *testing.T) {
	s := openTest(t, t.TempDir())
	type outcome struct {
		end int64
		err error
	}
	got := make(chan outcome, 1)
	s.WriteAsync(func(t *Tx) error {
		return appendEvent(t, "test.async", "test", "a", 1, nil)
	}, func(err error) {
		if err == nil {
			_, err = s.Events.GetEvent(context.Background(), 1)
		}
		got <- outcome{s.LogEnd().Last(), err}
	})
	select {
	case o := <-got:
		if o.err != nil || o.end != 1 {
			t.Fatalf("then saw end %d, err %v; want 1 and the event readable", o.end, o.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("then never ran")
	}
	s.Close()
	s.WriteAsync(func(*Tx) error { return nil }, func(err error) { got <- outcome{err: err} })
	if o := <-got; !errors.Is(o.err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", o.err)
	}
}

// A follower of some event types is woken by a commit of those, not by
// one of others, though the end moves past both.
func TestChangedOfWakesOnlyForItsTypes(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	appendOne := func(typ string) int64 {
		var id int64
		if err := s.Write(ctx, func(t *Tx) error {
			err := appendEvent(t, typ, "test", "x", 1, nil)
			id = t.lastEvent
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	_, grew := s.LogEnd().ChangedOf(EventTypes{"confirmation.*"})
	other := appendOne("message.sent")
	select {
	case <-grew:
		t.Fatal("woken by a message event")
	default:
	}
	if last, _ := s.LogEnd().ChangedOf(EventTypes{"confirmation.*"}); last != other {
		t.Fatalf("end %d, want %d: the end moves with every commit", last, other)
	}
	appendOne("confirmation.confirmed")
	select {
	case <-grew:
	default:
		t.Fatal("not woken by a confirmation event")
	}
}
