package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// The actor belongs to the write that carries it: writes committed in the
// same batch keep their own, and a write without one records none.
func TestEventsRecordTheActorOfTheirWrite(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	actors := []string{"payment-core", "", "ops", ""}
	var wg sync.WaitGroup
	for i, a := range actors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Events.AppendEvent(WithActor(ctx, a), "test.actor", "test", a, i, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	events, err := s.Events.Events(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		if e.Actor != e.Object.ID {
			t.Errorf("event of write by %q recorded actor %q", e.Object.ID, e.Actor)
		}
		got = append(got, e.Actor)
	}
	slices.Sort(got)
	if want := []string{"", "", "ops", "payment-core"}; !slices.Equal(got, want) {
		t.Fatalf("actors %q, want %q", got, want)
	}
	if e, err := s.Events.GetEvent(ctx, events[0].ID); err != nil || e.Actor != events[0].Actor {
		t.Fatalf("GetEvent: %+v, %v", e, err)
	}
}

// A database from before actors gains the column; its events have none.
func TestMigrationAddsTheActor(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{migrations[0], "PRAGMA user_version = 1",
		"INSERT INTO events (type, kind, object_id, object_seq, payload, created_at) VALUES ('modem.down', 'modem', 'm', 1, '{}', 1)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	db.Close()
	s := openTest(t, dir)
	events, err := s.Events.Events(context.Background(), EventFilter{})
	if err != nil || len(events) != 1 || events[0].Type != "modem.down" || events[0].Actor != "" {
		t.Fatalf("events after migration: %+v, %v", events, err)
	}
}
