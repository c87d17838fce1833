package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// restoreCopy stops the store in dir, moves its files aside and puts the
// backup copy in their place, as the runbook's restore does.
func restoreCopy(t *testing.T, s *Store, dir, copyPath string) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	aside := t.TempDir()
	for _, f := range []string{dbFile, dbFile + "-wal", dbFile + "-shm"} {
		if err := os.Rename(filepath.Join(dir, f), filepath.Join(aside, f)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, dbFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A backup holds the messages queued or sending when it was taken; the
// daemon it came from may well have sent them afterwards. A restored copy
// must not send them again: they become unknown, for a person to decide.
func TestRestoredBackupNeverSendsItsQueuedMessagesAgain(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	ctx := context.Background()
	queued := accept(t, s, NewMessage{Text: "Платёж 1"})
	between := accept(t, s, NewMessage{Text: "Платёж 2", Parts: 2})
	if _, err := s.Messages.BeginPart(ctx, between.ID, 1, "8970101", "modem-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Messages.PartSent(ctx, between.ID, 1, 5, between.CreatedAt); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if err := s.Upkeep.Backup(ctx, copyPath); err != nil {
		t.Fatal(err)
	}
	// After the backup the daemon sends the queued message.
	if _, err := s.Messages.BeginPart(ctx, queued.ID, 1, "8970101", "modem-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Messages.PartSent(ctx, queued.ID, 1, 6, queued.CreatedAt); err != nil {
		t.Fatal(err)
	}
	restoreCopy(t, s, dir, copyPath)

	r := openTest(t, dir)
	if _, err := r.Messages.RecoverInFlight(ctx, false); err != nil {
		t.Fatal(err)
	}
	if q := queue(t, r); len(q) != 0 {
		t.Fatalf("a restored backup queues %d messages to send again, first %s (%s)", len(q), q[0].ID, q[0].State)
	}
	for _, id := range []string{queued.ID, between.ID} {
		m, err := r.Messages.GetMessage(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.State != Unknown || m.Error == nil || m.Error.Code != "restored" {
			t.Fatalf("restored message %s: state %s error %+v, want unknown/restored", id, m.State, m.Error)
		}
	}
	if n := count(t, r, "SELECT count(*) FROM events WHERE type = 'message.unknown'"); n != 2 {
		t.Fatalf("%d message.unknown events, want 2", n)
	}

	// The guard acts once: a message accepted after the restore is sent
	// as usual, also after another restart.
	fresh := accept(t, r, NewMessage{Text: "Платёж 3"})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	again := openTest(t, dir)
	if q := queue(t, again); len(q) != 1 || q[0].ID != fresh.ID {
		t.Fatalf("after a restart the queue is %v, want only %s", q, fresh.ID)
	}
}

// The running daemon's own database is never taken for a restored one.
func TestReopenKeepsQueuedMessagesQueued(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	m := accept(t, s, NewMessage{})
	if err := s.Upkeep.Backup(context.Background(), filepath.Join(t.TempDir(), "copy.db")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r := openTest(t, dir)
	if q := queue(t, r); len(q) != 1 || q[0].ID != m.ID || q[0].State != Queued {
		t.Fatalf("queue after reopen %v", q)
	}
}
