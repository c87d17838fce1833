package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Upkeep is the store's housekeeping: retention, disk usage and backups.
type Upkeep struct{ s *Store }

// Dir is the data directory, where the database and its backups live.
func (up Upkeep) Dir() string { return up.s.dir }

// Retention says how long stored data lives; a zero duration means forever.
type Retention struct {
	// BlankTextAfter empties the texts of messages, received SMS and event
	// payloads; the rows stay for accounting.
	BlankTextAfter time.Duration
	// DeleteAfter removes settled messages (with parts and idempotency keys),
	// received SMS, status reports and balances.
	DeleteAfter time.Duration
	// EventsAfter removes events, but only those every endpoint in Webhooks
	// has passed and no dead letter points at.
	EventsAfter time.Duration
	// Webhooks are the configured endpoints. Cursors of endpoints no longer
	// configured are ignored, so removing a receiver from the configuration
	// does not pin the log forever.
	Webhooks []string
}

// PurgeResult says what a purge did.
type PurgeResult struct {
	TextsBlanked  int64
	RowsDeleted   int64
	EventsDeleted int64
	// EventsHeld is true when events past EventsAfter were kept because a
	// webhook endpoint has not delivered them yet.
	EventsHeld bool
	PagesFreed int64
}

// purgeBatch bounds the rows one write transaction touches, so a first purge
// of a large database never holds the writer (and with it every send) for
// long.
const purgeBatch = 2000

// Settled messages can no longer change: final ones, and sent or unknown ones
// whose delivery report can no longer match (reports match only within
// reportMatchWindow). Queued and sending messages are never touched.
const settledMessage = `(state IN ('delivered','undelivered','failed','expired','cancelled')
	OR (state IN ('sent','unknown') AND updated_at < ?))`

// Purge applies the retention policy with the store's clock.
func (up Upkeep) Purge(ctx context.Context, r Retention) (PurgeResult, error) {
	s := up.s
	now := s.now()
	settledBefore := ms(now.Add(-reportMatchWindow))
	var res PurgeResult
	type step struct {
		q    string
		args []any
		n    *int64
	}
	var steps []step
	if r.BlankTextAfter > 0 {
		cut := ms(now.Add(-r.BlankTextAfter))
		steps = append(steps,
			step{`UPDATE messages SET body = '', body_blanked = 1 WHERE rowid IN (SELECT rowid FROM messages
				WHERE body_blanked = 0 AND created_at < ? AND ` + settledMessage + ` LIMIT ?)`, []any{cut, settledBefore}, &res.TextsBlanked},
			step{`UPDATE inbox SET body = '', body_blanked = 1 WHERE rowid IN (SELECT rowid FROM inbox
				WHERE body_blanked = 0 AND received_at < ? LIMIT ?)`, []any{cut}, &res.TextsBlanked},
			// Event payloads are copies of the objects: their texts go too.
			step{`UPDATE events SET payload = json_set(payload, '$.text', '', '$.text_blanked', json('true'))
				WHERE rowid IN (SELECT rowid FROM events WHERE created_at < ?
				AND json_type(payload, '$.text') = 'text' AND json_extract(payload, '$.text') <> '' LIMIT ?)`, []any{cut}, &res.TextsBlanked},
		)
	}
	if r.DeleteAfter > 0 {
		cut := ms(now.Add(-r.DeleteAfter))
		for _, t := range []struct{ table, cond string }{
			{"messages", "created_at < ? AND " + settledMessage},
			{"idempotency", "created_at < ?"},
			{"inbox", "received_at < ?"},
			{"inbox_seen", "created_at < ?"},
			{"status_reports", "received_at < ?"},
			{"balances", "checked_at < ?"},
		} {
			args := []any{cut}
			if t.table == "messages" {
				args = append(args, settledBefore)
			}
			steps = append(steps, step{"DELETE FROM " + t.table + " WHERE rowid IN (SELECT rowid FROM " + t.table +
				" WHERE " + t.cond + " LIMIT ?)", args, &res.RowsDeleted})
		}
	}
	if r.EventsAfter > 0 {
		cut := ms(now.Add(-r.EventsAfter))
		held, err := s.eventsHeldFrom(ctx, r.Webhooks)
		if err != nil {
			return res, err
		}
		steps = append(steps,
			step{`DELETE FROM dead_letters WHERE rowid IN (SELECT rowid FROM dead_letters WHERE created_at < ? LIMIT ?)`,
				[]any{cut}, &res.RowsDeleted},
			step{`DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE created_at < ? AND id <= ?
				AND id NOT IN (SELECT event_id FROM dead_letters) LIMIT ?)`, []any{cut, held}, &res.EventsDeleted},
		)
		var n int64
		err = s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE created_at < ? AND id > ?", cut, held).Scan(&n)
		if err != nil {
			return res, fmt.Errorf("store: purge: %w", err)
		}
		res.EventsHeld = n > 0
	}
	for _, st := range steps {
		for {
			var n int64
			err := s.Write(ctx, func(t *Tx) error {
				r, err := t.exec(st.q, append(st.args, purgeBatch)...)
				if err != nil {
					return err
				}
				n, err = r.RowsAffected()
				return err
			})
			if err != nil {
				return res, fmt.Errorf("store: purge: %w", err)
			}
			*st.n += n
			if n < purgeBatch {
				break
			}
		}
	}
	freed, err := s.vacuum(ctx)
	res.PagesFreed = freed
	return res, err
}

// eventsHeldFrom is the highest event id every configured endpoint has
// passed; events above it must stay until they are delivered.
func (s *Store) eventsHeldFrom(ctx context.Context, endpoints []string) (int64, error) {
	held := int64(1<<63 - 1)
	for _, e := range endpoints {
		c, err := s.Deliveries.GetWebhookCursor(ctx, e)
		if err != nil {
			return 0, err
		}
		held = min(held, c.Cursor)
	}
	return held, nil
}

// vacuum gives free pages back to the file system in small steps, each its
// own write, for the same reason purges are batched.
func (s *Store) vacuum(ctx context.Context) (int64, error) {
	var total int64
	for {
		var before, after int64
		err := s.Write(ctx, func(t *Tx) error {
			if err := t.queryRow("PRAGMA freelist_count").Scan(&before); err != nil {
				return err
			}
			if before == 0 {
				return nil
			}
			if _, err := t.exec(fmt.Sprintf("PRAGMA incremental_vacuum(%d)", purgeBatch)); err != nil {
				return err
			}
			return t.queryRow("PRAGMA freelist_count").Scan(&after)
		})
		if err != nil {
			return total, fmt.Errorf("store: incremental vacuum: %w", err)
		}
		total += before - after
		if before == 0 || after == 0 || after >= before {
			return total, nil
		}
	}
}

// Usage is what the database occupies and what is left on its file system.
type Usage struct {
	DatabaseBytes    int64
	WALBytes         int64
	ReclaimableBytes int64
	FreeBytes        int64
}

// Usage measures the database files and the free space of the data directory.
func (up Upkeep) Usage(ctx context.Context) (Usage, error) {
	s := up.s
	var u Usage
	path := filepath.Join(s.dir, dbFile)
	fi, err := os.Stat(path)
	if err != nil {
		return u, fmt.Errorf("store: usage: %w", err)
	}
	u.DatabaseBytes = fi.Size()
	if fi, err := os.Stat(path + "-wal"); err == nil {
		u.WALBytes = fi.Size()
	}
	var pageSize, free int64
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return u, fmt.Errorf("store: usage: %w", err)
	}
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
		return u, fmt.Errorf("store: usage: %w", err)
	}
	u.ReclaimableBytes = pageSize * free
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.dir, &st); err != nil {
		return u, fmt.Errorf("store: usage: free space of %s: %w", s.dir, err)
	}
	u.FreeBytes = int64(st.Bavail) * int64(st.Bsize)
	return u, nil
}

// Backup writes a consistent copy of the database to path, which must not
// exist yet. It reads through its own read-only connection inside one read
// transaction (VACUUM INTO), so the writer keeps committing meanwhile and the
// copy is compact and self-contained (no WAL beside it).
func (up Upkeep) Backup(ctx context.Context, path string) error {
	s := up.s
	// Created empty and 0600 first (VACUUM INTO takes an empty file): the
	// copy holds every text, and SQLite would create it 0644.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	f.Close()
	src := "file:" + (&url.URL{Path: filepath.Join(s.dir, dbFile)}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", src)
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("store: backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		os.Remove(path)
		return fmt.Errorf("store: backup: %w", err)
	}
	// Marked, so that a restore of it never sends what it holds as
	// queued: see guardRestored.
	if err := markBackupCopy(ctx, path, s.now()); err != nil {
		os.Remove(path)
		return fmt.Errorf("store: backup: mark the copy: %w", err)
	}
	return nil
}
