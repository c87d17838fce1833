package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/testtool"
)

func TestFullDiskFailsWritesAsFullAndRecovers(t *testing.T) {
	dir := testtool.SmallFS(t, "2m", "storage faults on a full disk are")
	s := openTest(t, dir)
	ctx := context.Background()
	kept := accept(t, s, NewMessage{})
	changed := s.HealthChanged()
	free := testtool.FillDisk(t, dir)

	var err error
	var accepted []string
	for i := 0; i < 200 && err == nil; i++ {
		var m *Message
		m, _, err = s.Messages.Accept(ctx, NewMessage{To: "+79161234567", Text: strings.Repeat("x", 1000), Parts: 7, Encoding: "gsm7", TTL: time.Hour})
		if err == nil {
			accepted = append(accepted, m.ID)
		}
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("writing to a full disk: %v, want ErrFull", err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("the health did not change when a write failed")
	}
	if h := s.Health(); !errors.Is(h.Err, ErrFull) || h.Failures == 0 {
		t.Fatalf("health %+v, want failing with ErrFull", h)
	}
	if err := s.Probe(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("probe on a full disk: %v", err)
	}

	changed = s.HealthChanged()
	free()
	if err := s.Probe(ctx); err != nil {
		t.Fatalf("probe after space came back: %v", err)
	}
	<-changed
	if h := s.Health(); h.Err != nil {
		t.Fatalf("health after recovery: %+v", h)
	}
	m := accept(t, s, NewMessage{})
	// Everything answered as accepted is there; nothing else is.
	for _, id := range append(accepted, kept.ID, m.ID) {
		if _, err := s.Messages.GetMessage(ctx, id); err != nil {
			t.Fatalf("accepted message %s: %v", id, err)
		}
	}
	page, _, err := s.Messages.ListMessages(ctx, MessageFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != len(accepted)+2 {
		t.Fatalf("%d messages stored, %d accepted", len(page), len(accepted)+2)
	}
}

func TestDeletedOrReplacedDatabaseStopsWrites(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(path string) error
	}{
		{"deleted", os.Remove},
		{"replaced", func(path string) error {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if err := os.WriteFile(path+".new", data, 0o600); err != nil {
				return err
			}
			return os.Rename(path+".new", path)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir)
			accept(t, s, NewMessage{})
			if err := tc.do(filepath.Join(dir, dbFile)); err != nil {
				t.Fatal(err)
			}
			_, _, err := s.Messages.Accept(context.Background(), NewMessage{To: "+79161234567", Text: "x", Parts: 1, Encoding: "gsm7", TTL: time.Hour})
			if !errors.Is(err, ErrReplaced) || !strings.Contains(err.Error(), dbFile) {
				t.Fatalf("write after the file was %s: %v, want ErrReplaced naming the file", tc.name, err)
			}
			// It latches: the file at the path is not the one written to.
			if err := s.Probe(context.Background()); !errors.Is(err, ErrReplaced) {
				t.Fatalf("probe: %v", err)
			}
			if h := s.Health(); !errors.Is(h.Err, ErrReplaced) {
				t.Fatalf("health %+v", h)
			}
		})
	}
}

func TestZeroLengthDatabaseIsRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, dbFile)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "0 bytes") || !strings.Contains(err.Error(), "gsmbridge backup") {
		t.Fatalf("Open of a zero-length database: %v, want a refusal with the fix", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("the refused file was touched: %v %v", fi, err)
	}
	// The lock is released: the operator can fix the file and start again.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	openTest(t, dir)
}

func TestCorruptDatabaseIsRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		accept(t, s, NewMessage{})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, dbFile)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var root, pageSize int64
	if err := db.QueryRow("SELECT rootpage FROM sqlite_master WHERE name = 'events'").Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Garble the events table's root page, as a bad sector would.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, int(pageSize)), (root-1)*pageSize); err != nil {
		t.Fatal(err)
	}
	f.Close()

	_, err = Open(dir, Options{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "gsmbridge backup") {
		t.Fatalf("Open of a corrupt database: %v, want ErrCorrupt with the fix", err)
	}
}

func TestNotADatabaseIsRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, dbFile), bytes.Repeat([]byte("not sqlite "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "gsmbridge backup") {
		t.Fatalf("Open of a file that is no database: %v", err)
	}
}

// The umask is process-wide; no test of this package runs in parallel.
func TestFilesAre0600WhateverTheUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	// An existing database made by an older gsmbridge with 0644.
	s := openTest(t, dir)
	s.Close()
	path := filepath.Join(dir, dbFile)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	accept(t, s, NewMessage{})

	if err := s.Upkeep.Backup(context.Background(), filepath.Join(dir, "copy.db")); err != nil {
		t.Fatal(err)
	}
	fresh := t.TempDir()
	accept(t, openTest(t, fresh), NewMessage{})
	for _, d := range []string{dir, fresh} {
		names := []string{dbFile, dbFile + "-wal", dbFile + "-shm", "gsmbridge.lock"}
		if d == dir {
			names = append(names, "copy.db")
		}
		for _, name := range names {
			fi, err := os.Stat(filepath.Join(d, name))
			if err != nil {
				t.Fatal(err)
			}
			if mode := fi.Mode().Perm(); mode != 0o600 {
				t.Errorf("%s: mode %o, want 600", filepath.Join(d, name), mode)
			}
		}
	}
}

// A database held locked by another process (an operator's sqlite3 shell
// left in a transaction, a copy tool) is a store fault like a full disk:
// the writer waits its busy timeout, then the write fails as
// ErrUnavailable naming the lock, so the API answers 503, the health turns
// red and the send path keeps a sent part's record for the recovery
// instead of dropping it.
func TestLockedDatabaseFailsWritesAsUnavailable(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	ctx := context.Background()
	kept := accept(t, s, NewMessage{})
	other, err := sql.Open("sqlite", "file:"+filepath.Join(dir, dbFile)+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	changed := s.HealthChanged()

	_, _, err = s.Messages.Accept(ctx, NewMessage{To: "+79161234567", Text: "x", Parts: 1, Encoding: "gsm7", TTL: time.Hour})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("a write while another process holds the database: %v, want ErrUnavailable naming the lock", err)
	}
	<-changed
	if h := s.Health(); !errors.Is(h.Err, ErrUnavailable) || h.Failures == 0 {
		t.Fatalf("health %+v, want failing with ErrUnavailable", h)
	}

	changed = s.HealthChanged()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := s.Probe(ctx); err != nil {
		t.Fatalf("probe once the lock is gone: %v", err)
	}
	<-changed
	if h := s.Health(); h.Err != nil {
		t.Fatalf("health after the lock went: %+v", h)
	}
	page, _, err := s.Messages.ListMessages(ctx, MessageFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || page[0].ID != kept.ID {
		t.Fatalf("stored %d messages, want only the one accepted before the lock", len(page))
	}
}

// A commit the full disk refused still counts its rolled-back rows in the
// connection's change counter. A later batch that changes nothing (a sent
// part recorded twice, a recovery with nothing in flight) commits on a full
// disk too, and must not be taken for a write that proves the store
// recovered: /metrics, /readyz and store.recovered would say so while every
// message is still refused.
func TestNoOpWriteAfterAFailedCommitDoesNotRecoverTheHealth(t *testing.T) {
	dir := testtool.SmallFS(t, "2m", "health on a full disk after a failed commit is")
	s := openTest(t, dir)
	ctx := context.Background()
	accept(t, s, NewMessage{})
	testtool.FillDisk(t, dir)

	var err error
	for i := 0; i < 200 && err == nil; i++ {
		_, _, err = s.Messages.Accept(ctx, NewMessage{To: "+79161234567", Text: strings.Repeat("x", 1000), Parts: 7, Encoding: "gsm7", TTL: time.Hour})
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("writing to a full disk: %v, want ErrFull", err)
	}
	if _, err := s.Messages.RecoverInFlight(ctx, false); err != nil {
		t.Fatalf("a write that changes nothing: %v", err)
	}
	if h := s.Health(); !errors.Is(h.Err, ErrFull) {
		t.Fatalf("health after a write that changed nothing on a full disk: %+v, want still failing with ErrFull", h)
	}
}

// A database file deleted under the running store must stay deleted: a
// reader connection opened afterwards (the first GET after a minute
// without reads opens one) used to create an empty file at the path. Reads
// then failed with "no such table", and every write was refused as
// "another file now ... restart gsmbridge to use it", the advice for a
// restored backup, when what was needed was to restore one.
func TestDeletedDatabaseIsNotRecreatedByAReader(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	accept(t, s, NewMessage{})
	path := filepath.Join(dir, dbFile)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	// Take every reader the pool may open, so fresh ones open on the path.
	ctx := context.Background()
	var conns []*sql.Conn
	for i := 0; i < readers; i++ {
		c, err := s.rdb.Conn(ctx)
		if err != nil {
			break // the pool cannot open one: nothing was created either
		}
		c.PingContext(ctx)
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after readers opened, %s: %v, want it still absent", path, err)
	}
	_, _, err := s.Messages.Accept(ctx, NewMessage{To: "+79161234567", Text: "x", Parts: 1, Encoding: "gsm7", TTL: time.Hour})
	if !errors.Is(err, ErrReplaced) || !strings.Contains(err.Error(), "no longer exists") {
		t.Fatalf("a write after the file was deleted: %v, want ErrReplaced saying it no longer exists", err)
	}
}
