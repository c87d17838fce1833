package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrUnavailable means the store could not make a write durable: the disk,
// the file system or the database file failed, not the write itself. The
// API answers it with 503 and the daemon with a red store check.
var ErrUnavailable = errors.New("store unavailable")

// ErrFull is an ErrUnavailable for a file system without space left (507).
var ErrFull = fmt.Errorf("%w: the file system holding the database is full", ErrUnavailable)

// ErrReplaced means the database file was deleted or replaced under the
// running store. Every later write is refused: committing into a file that
// is gone from its path would accept messages that the next start cannot see.
var ErrReplaced = fmt.Errorf("%w: the database file was deleted or replaced while gsmbridge ran", ErrUnavailable)

// ErrCorrupt means SQLite found the database damaged. Like ErrReplaced it
// stops every later write.
var ErrCorrupt = fmt.Errorf("%w: the database is corrupt", ErrUnavailable)

// restoreHint is the fix every refusal to open or to go on writing prints.
func restoreHint(path string) string {
	return fmt.Sprintf("stop gsmbridge, move %[1]s (and any %[1]s-wal and %[1]s-shm) aside, "+
		"put the last copy made with `gsmbridge backup` in its place, and start gsmbridge again "+
		"(docs/operations.md, GsmbridgeStoreFailing)", path)
}

// Classify turns SQLite's and the kernel's failures of the storage into the
// store's fault errors, keeping the cause; other errors pass unchanged. The
// writer applies it to every write; the API to what a read returned, which
// is a fault of the store as much as a failed write is.
func Classify(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL:
			return fmt.Errorf("%w: %w", ErrFull, err)
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PROTOCOL:
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			// Only another process can hold the database past the writer's
			// busy timeout (the directory lock keeps out another gsmbridge):
			// a sqlite3 shell or a copy tool in a transaction. Nothing was
			// written, as on a full disk, and the send path must keep what
			// it could not record rather than drop it.
			return fmt.Errorf("%w: another process holds the database locked: %w", ErrUnavailable, err)
		}
	}
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%w: %w", ErrFull, err)
	case errors.Is(err, syscall.EIO), errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// Health says whether the store's last writes became durable.
type Health struct {
	Err      error     // why the last write failed; nil while the store commits
	Since    time.Time // when the current state (failing or not) began
	Failures uint64    // writes lost to store faults since Open
}

// Health reports the store's current state.
func (s *Store) Health() Health {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.health
}

// HealthChanged returns a channel closed at the next change between
// committing and failing, so a watcher wakes on the change, not on a timer.
func (s *Store) HealthChanged() <-chan struct{} {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.healthChanged
}

// noteHealth records the outcome of one batch; fault is its first store
// fault or nil. Replaced and corrupt databases latch: nothing written after
// them could be trusted.
func (s *Store) noteHealth(fault error, failed int) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if fault != nil {
		s.health.Failures += uint64(failed)
		if errors.Is(fault, ErrReplaced) || errors.Is(fault, ErrCorrupt) {
			s.latched = fault
		}
	}
	if (fault == nil) == (s.health.Err == nil) {
		if fault != nil {
			s.health.Err = fault
		}
		return
	}
	s.health.Err, s.health.Since = fault, s.now()
	close(s.healthChanged)
	s.healthChanged = make(chan struct{})
}

func (s *Store) latchedFault() error {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.latched
}

// fileID is what tells one database file from another at the same path.
type fileID struct{ dev, ino uint64 }

func statID(path string) (fileID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return fileID{}, err
	}
	return fileID{uint64(st.Dev), st.Ino}, nil
}

// checkFile makes sure the path still names the file the store opened. A
// deleted or replaced file keeps taking writes through the open descriptor,
// and they vanish at the next start; one stat per batch is cheap beside the
// batch's fsync.
func (s *Store) checkFile() error {
	id, err := statID(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: %s no longer exists; writes are refused until gsmbridge is restarted; to keep what it held, %s",
			ErrReplaced, s.path, restoreHint(s.path))
	case err != nil:
		return Classify(fmt.Errorf("store: stat %s: %w", s.path, err))
	case id != s.fileID:
		return fmt.Errorf("%w: %s is another file now (inode %d, was %d); writes are refused until gsmbridge is restarted to use it",
			ErrReplaced, s.path, id.ino, s.fileID.ino)
	}
	return nil
}

// prepareFile refuses a zero-length database (a truncated file would
// otherwise silently become a new, empty database) and creates a missing
// one 0600 whatever the umask: SQLite would create it 0644, and its -wal and
// -shm files take the database file's mode.
func prepareFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("store: create %s: %w", path, err)
		}
		return f.Close()
	case err != nil:
		return fmt.Errorf("store: %w", err)
	case fi.Size() == 0:
		return fmt.Errorf("store: %s is empty (0 bytes): refusing to start it as a new, empty database; %s; "+
			"if this is a new installation with nothing to lose, delete the file instead", path, restoreHint(path))
	}
	// Files an older gsmbridge made 0644 are closed to others too; one
	// owned by another user (EPERM) is left as it is rather than refused.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() == 0o600 {
			continue
		}
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// quickCheck refuses a damaged database at start, before anything is
// written into it: PRAGMA quick_check reads every page (it skips only the
// index-to-table cross-checks of integrity_check), a second or so per
// hundred megabytes.
func quickCheck(db *sql.DB, path string) error {
	rows, err := db.Query("PRAGMA quick_check")
	if err != nil {
		return openFailure(path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return openFailure(path, err)
		}
		if line != "ok" && len(problems) < 5 {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return openFailure(path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s failed its integrity check (%s): refusing to run on it; %s",
			ErrCorrupt, path, strings.Join(problems, "; "), restoreHint(path))
	}
	return nil
}

// openFailure explains a database that SQLite cannot even read.
func openFailure(path string, err error) error {
	if errors.Is(Classify(err), ErrCorrupt) {
		return fmt.Errorf("%w: %s is not a readable gsmbridge database (%w); %s", ErrCorrupt, path, err, restoreHint(path))
	}
	return fmt.Errorf("store: open %s: %w", path, err)
}

// Probe makes a real write: one row of meta rewritten and committed through
// the writer like any accepted message, so it fails when the disk, the file
// or the writer does. An empty transaction would not: it writes nothing.
func (s *Store) Probe(ctx context.Context) error {
	return s.Write(ctx, func(t *Tx) error {
		_, err := t.exec("INSERT INTO meta(key, value) VALUES('probe', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
			t.now.UTC().Format(time.RFC3339Nano))
		return err
	})
}

// FaultEvent appends a store.* event (store.failed, store.recovered) about
// the database, numbered in meta so the sequence grows across restarts.
func (s *Store) FaultEvent(ctx context.Context, typ string, payload any) error {
	return s.Write(ctx, func(t *Tx) error {
		var seq int
		err := t.queryRow("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'store_event_seq'").Scan(&seq)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		seq++
		if _, err := t.exec("INSERT INTO meta(key, value) VALUES('store_event_seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
			strconv.Itoa(seq)); err != nil {
			return err
		}
		return appendEvent(t, typ, "store", "database", seq, payload)
	})
}
