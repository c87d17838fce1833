package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func openRiderWait(t *testing.T, dir string, wait time.Duration) *Store {
	t.Helper()
	s, err := Open(dir, Options{RiderWait: wait})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// busy commits writes back to back until the store's commits come far
// closer together, on average, than a fifth of its RiderWait: the store
// then lets writes ride.
func busy(t *testing.T, s *Store) {
	t.Helper()
	for range 24 {
		if err := s.Write(context.Background(), func(*Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if !s.riders.busy() {
		t.Fatalf("commits %v apart on average after a burst, want under %v", time.Duration(s.riders.gap.Load()), s.riders.wait/5)
	}
}

// On a busy store a rider starts no commit of its own: it goes with the
// next write's transaction, ahead of that write, and is durable when the
// write returns.
func TestWriteAlongRidesWithTheNextCommit(t *testing.T) {
	dir := t.TempDir()
	s := openRiderWait(t, dir, time.Hour)
	ctx := context.Background()
	m := accept(t, s, NewMessage{})
	if _, err := s.Messages.BeginPart(ctx, m.ID, 1, "89701", "modem-a"); err != nil {
		t.Fatal(err)
	}
	busy(t, s)
	commits := s.Stats().Commits
	var order []string
	heard := make(chan *Message, 1)
	s.Messages.PartSentAlong(SentPart{ID: m.ID, Seq: 1, MR: 7, Then: func(m *Message, err error) {
		if err != nil {
			t.Errorf("rider: %v", err)
		}
		order = append(order, "rider")
		heard <- m
	}})
	other := accept(t, s, NewMessage{})
	order = append(order, "write returned")
	if got := s.Stats().Commits - commits; got != 1 {
		t.Fatalf("%d commits for a rider and a write, want 1", got)
	}
	if len(order) != 2 || order[0] != "rider" {
		t.Fatalf("order %v: the rider was not durable when the write returned", order)
	}
	if got := <-heard; got.State != Sent {
		t.Fatalf("rider heard %s, want sent", got.State)
	}
	// Both are on disk: a reopened store has them.
	s.Close()
	s = openRiderWait(t, dir, time.Hour)
	if got, err := s.Messages.GetMessage(ctx, m.ID); err != nil || got.State != Sent || *got.PartList[0].MR != 7 {
		t.Fatalf("rider after reopen: %+v, %v", got, err)
	}
	if _, err := s.Messages.GetMessage(ctx, other.ID); err != nil {
		t.Fatalf("the write it rode with, after reopen: %v", err)
	}
}

// On a quiet store a rider commits at once: waiting would wake the process
// twice. On a busy one, with no other write coming, it commits on its own
// once it has waited; and a store that closes commits the riders waiting.
func TestWriteAlongCommitsAloneOrAtClose(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wait  time.Duration
		busy  bool
		close bool
	}{
		{"quiet store, at once", time.Hour, false, false},
		{"busy store, after its wait", 500 * time.Millisecond, true, false},
		{"busy store, at close", time.Hour, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openRiderWait(t, t.TempDir(), tc.wait)
			if tc.busy {
				busy(t, s)
			}
			commits := s.Stats().Commits
			done := make(chan error, 1)
			s.WriteAlong(func(t *Tx) error {
				_, err := t.exec("UPDATE sims SET last_sent_at=1 WHERE iccid='none'")
				return err
			}, func(err error) { done <- err })
			if tc.close {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				// The writer had committed it before Close returned.
				select {
				case <-done:
				default:
					t.Fatal("a rider waiting at Close was not committed")
				}
				done <- nil
			}
			// A rider waiting an hour fails the test by its time-out.
			if err := <-done; err != nil {
				t.Fatalf("rider: %v", err)
			}
			if got := s.Stats().Commits - commits; got != 1 {
				t.Fatalf("%d commits, want 1", got)
			}
		})
	}
}

func TestWriteAlongAfterCloseIsRefused(t *testing.T) {
	s := openRiderWait(t, t.TempDir(), time.Hour)
	s.Close()
	var got error
	s.WriteAlong(func(*Tx) error { return nil }, func(err error) { got = err })
	if !errors.Is(got, ErrClosed) {
		t.Fatalf("rider after close: %v, want ErrClosed", got)
	}
}

// Riders and writes from many goroutines, and a Close among them: every
// rider hears once, durable unless the store had closed, and the store
// holds each rider that heard of no error.
func TestWriteAlongUnderConcurrentWritesAndClose(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{RiderWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	heard := map[string]int{}
	var landed []string
	// Close once the first writer queued half its riders, while the rest
	// keep coming.
	half := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				key := fmt.Sprintf("rider-%d-%d", w, i)
				s.WriteAlong(func(t *Tx) error {
					_, err := t.exec("INSERT INTO meta (key, value) VALUES (?, 'x')", key)
					return err
				}, func(err error) {
					mu.Lock()
					defer mu.Unlock()
					heard[key]++
					if err == nil {
						landed = append(landed, key)
					} else if !errors.Is(err, ErrClosed) {
						t.Errorf("%s: %v", key, err)
					}
				})
				if w == 0 && i == each/2 {
					close(half)
				}
				if i%3 == 0 {
					// Some riders go with writes, some alone.
					s.Write(context.Background(), func(*Tx) error { return nil })
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-half
		s.Close()
	}()
	wg.Wait()
	s.Close()
	if len(heard) != writers*each {
		t.Fatalf("%d riders heard, want %d", len(heard), writers*each)
	}
	for k, n := range heard {
		if n != 1 {
			t.Fatalf("%s heard %d times", k, n)
		}
	}
	s = openRiderWait(t, dir, time.Hour)
	for _, k := range landed {
		var v string
		if err := s.rdb.QueryRow("SELECT value FROM meta WHERE key=?", k).Scan(&v); err != nil {
			t.Fatalf("%s heard it landed, but: %v", k, err)
		}
	}
}
