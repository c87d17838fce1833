package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// backupMark is the meta key a backup copy carries, with the time it was
// taken: the running database never has it, so a database that does was
// put in place from a backup.
const backupMark = "backup_taken_at"

// markBackupCopy records in the copy at path when it was taken. The copy
// also leaves WAL mode here: it is one self-contained file, and opening it
// writes no -wal or -shm beside it.
func markBackupCopy(ctx context.Context, path string, takenAt time.Time) error {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=journal_mode(DELETE)")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
		backupMark, strconv.FormatInt(ms(takenAt), 10))
	if err != nil {
		return err
	}
	return db.Close()
}

// guardRestored runs at Open. A database restored from a backup holds the
// messages that were queued or sending when the backup was taken, and the
// daemon it came from may have sent any of them afterwards: sending them
// again could ask a customer twice about one payment. So they become
// unknown ("restored"), never sent again by themselves, for a person and
// the payment core to settle, as every other message whose fate is not
// known. The mark goes in the same transaction: the guard acts once (Open
// holds the data directory's lock, so nothing else writes meanwhile).
func (s *Store) guardRestored(ctx context.Context) (int, error) {
	// Read first: the running database, which never has the mark, costs
	// no write at each start.
	var v string
	err := s.rdb.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", backupMark).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: read the backup mark: %w", err)
	}
	taken, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("store: meta %s %q: %w", backupMark, v, err)
	}
	var n int
	err = s.Write(ctx, func(t *Tx) error {
		rows, err := t.query("SELECT id FROM messages WHERE state IN ('queued', 'sending') ORDER BY created_at, id")
		ids, err := collect(rows, err, func(r scanner) (id string, err error) { err = r.Scan(&id); return })
		if err != nil {
			return err
		}
		takenAt := fromMS(taken)
		cause := ErrorInfo{Code: "restored", Message: "the database was restored from a backup taken at " +
			takenAt.UTC().Format(time.RFC3339) + "; this message may have been sent after it, so it is not sent again"}
		for _, id := range ids {
			// A part caught sending may have gone out when it started; one
			// not started, at the earliest once the backup was taken.
			if _, err := t.exec(`UPDATE message_parts SET state = 'unknown',
				sent_at = CASE WHEN state = 'sending' THEN (SELECT updated_at FROM messages WHERE id = ?) ELSE ? END
				WHERE message_id = ? AND state IN ('pending', 'sending')`, id, taken, id); err != nil {
				return err
			}
			if _, err := transitionMessage(t, id, Unknown, func(m *Message) { m.Error = &cause }); err != nil {
				return err
			}
		}
		n = len(ids)
		_, err = t.exec("DELETE FROM meta WHERE key = ?", backupMark)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: settle a restored backup's unsent messages: %w", err)
	}
	return n, nil
}
