// Package store keeps gsmbridge's durable state in an embedded SQLite database:
// messages and their parts, SIMs and modems, received SMS, status reports and
// the event log.
//
// Every write goes through one writer goroutine that commits whatever is
// waiting in a single transaction (group commit). With synchronous=FULL each
// commit costs an fsync; batching keeps accept latency low under load while
// every caller still learns of its write only after it is on disk, which is
// what lets the HTTP API answer "accepted" only for messages that survive a
// crash.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrLocked means another process holds the data directory.
var ErrLocked = errors.New("data directory is in use by another gsmbridge")

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// ErrClosed is returned for writes submitted after Close.
var ErrClosed = errors.New("store closed")

const dbFile = "gsmbridge.db"

// readers bounds the read connections open at once.
const readers = 8

// Options tune the store; the zero value is the production setting.
type Options struct {
	// MaxBatch bounds how many writes share one transaction.
	MaxBatch int
	// Now is the clock used for row timestamps; nil means time.Now.
	Now func() time.Time
	// RiderWait bounds how long a WriteAlong waits for another write to
	// commit with; zero means 100 ms. A store rides writes only while its
	// commits come less than a fifth of it apart.
	RiderWait time.Duration
}

// Store is safe for concurrent use.
type Store struct {
	dir    string
	path   string
	fileID fileID // the database file opened, to notice it deleted or replaced
	lock   *os.File
	wdb    *sql.DB // one connection, used only by the writer goroutine
	// wconn is wdb's connection, held by the writer for the store's life:
	// its statements, BEGIN and COMMIT included, stay prepared on it, and
	// no transaction goes through database/sql's per-call bookkeeping.
	wconn  *sql.Conn
	rdb    *sql.DB // readers; WAL lets them run beside the writer
	wstmts *stmtCache
	rstmts *stmtCache
	now    func() time.Time

	changes  int64 // the writer connection's total_changes() after its last commit; writer only
	writes   chan *writeOp
	riders   *riders
	closing  chan struct{}
	done     chan struct{}
	closeMu  sync.Mutex
	closed   bool
	maxBatch int

	statsMu       sync.Mutex
	stats         WriterStats
	health        Health
	healthChanged chan struct{}
	latched       error // a fault no later write can cure (ErrReplaced, ErrCorrupt)

	end *LogEnd

	// Facades, each the part of the store one feature uses.
	Messages      Messages
	Events        Events
	Deliveries    Deliveries
	Upkeep        Upkeep
	Balances      Balances
	USSD          USSD
	Inbox         Inbox
	Devices       Devices
	Confirmations Confirmations
}

type actorKey struct{}

// WithActor returns a context whose writes record actor on the events
// they append: the API puts the name of the request's token there.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorOf is the actor WithActor put in ctx, "" if none.
func ActorOf(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

// stmtCache keeps each distinct statement prepared once: on the readers'
// pool, or on the writer's own connection.
type stmtCache struct {
	prepare func(q string) (*sql.Stmt, error)
	mu      sync.Mutex
	m       map[string]*sql.Stmt
}

func newStmtCache(prepare func(q string) (*sql.Stmt, error)) *stmtCache {
	return &stmtCache{prepare: prepare, m: map[string]*sql.Stmt{}}
}

// get returns q prepared, preparing it on first use.
func (c *stmtCache) get(q string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[q]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := c.prepare(q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[q]; ok {
		st.Close()
		return prev, nil
	}
	if c.m == nil {
		st.Close()
		return nil, errors.New("store closed")
	}
	c.m[q] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// Open opens (creating if needed) the database in dir, takes the directory
// lock and applies pending migrations.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, dbFile)
	if err := prepareFile(path); err != nil {
		lock.Close()
		return nil, err
	}
	// auto_vacuum must come before journal_mode: once the database is in WAL
	// mode SQLite ignores it on a new file, and retention could then delete
	// rows without ever giving the space back.
	// The writer's transactions take the write lock at BEGIN (immediate), so
	// a snapshot can never go stale between a read and a write inside one.
	// Its page cache is a quarter of SQLite's 2 MB default: the allocator of
	// the pure-Go SQLite rounds each cached page (4 KiB and a header) up to
	// an 8 KiB slot, so the default cost over 4 MB of resident memory, all of
	// it taken at once by the integrity check below, which reads every page.
	// Between commits the writer touches the B-trees' inner pages and the
	// pages it appends to; 512 KiB holds about 115 pages, and draining
	// 10,000 queued messages took the same CPU with it as with 2 MB.
	file := "file:" + (&url.URL{Path: path}).EscapedPath()
	wdb, err := sql.Open("sqlite", file+"?_txlock=immediate&_pragma=auto_vacuum(2)&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=cache_size(-512)")
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	if err := quickCheck(wdb, path); err != nil {
		wdb.Close()
		lock.Close()
		return nil, err
	}
	if err := migrate(wdb); err != nil {
		wdb.Close()
		lock.Close()
		return nil, err
	}
	// Readers set nothing that could write: even a no-op pragma write would
	// take the write lock from under the writer. mode=rw opens without
	// creating: a reader opened after the file was deleted would otherwise
	// leave an empty one at the path, which reads as a database without
	// tables and makes checkFile call the deletion a replacement.
	rdb, err := sql.Open("sqlite", file+"?mode=rw&_pragma=busy_timeout(10000)&_pragma=query_only(1)&_pragma=cache_size(-512)")
	if err != nil {
		wdb.Close()
		lock.Close()
		return nil, fmt.Errorf("store: open readers: %w", err)
	}
	// Every reader the pool opened stays open while reads keep coming: with
	// database/sql's default of two idle ones, 16 clients polling a
	// message reopened a connection (the file, the schema, its prepared
	// statements) for up to one GET in nine. A minute unused frees a burst's.
	rdb.SetMaxOpenConns(readers)
	rdb.SetMaxIdleConns(readers)
	rdb.SetConnMaxIdleTime(time.Minute)
	id, err := statID(path)
	if err != nil {
		rdb.Close()
		wdb.Close()
		lock.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	var last sql.NullInt64
	if err := wdb.QueryRow("SELECT max(id) FROM events").Scan(&last); err != nil {
		rdb.Close()
		wdb.Close()
		lock.Close()
		return nil, fmt.Errorf("store: read the event log's end: %w", err)
	}
	wconn, err := wdb.Conn(context.Background())
	if err != nil {
		rdb.Close()
		wdb.Close()
		lock.Close()
		return nil, fmt.Errorf("store: take the write connection: %w", err)
	}
	s := &Store{
		path:          path,
		fileID:        id,
		healthChanged: make(chan struct{}),
		wstmts: newStmtCache(func(q string) (*sql.Stmt, error) {
			return wconn.PrepareContext(context.Background(), q)
		}),
		rstmts:   newStmtCache(rdb.Prepare),
		wconn:    wconn,
		dir:      dir,
		lock:     lock,
		wdb:      wdb,
		rdb:      rdb,
		now:      opts.Now,
		writes:   make(chan *writeOp, 1024),
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
		maxBatch: opts.MaxBatch,
		riders:   newRiders(cmp.Or(opts.RiderWait, 100*time.Millisecond)),
		end:      newLogEnd(last.Int64),
	}
	s.Messages, s.Events, s.Deliveries = Messages{s}, Events{s}, Deliveries{s}
	s.Upkeep, s.Balances, s.USSD, s.Inbox, s.Devices, s.Confirmations = Upkeep{s}, Balances{s}, USSD{s}, Inbox{s}, Devices{s}, Confirmations{s}
	if s.now == nil {
		s.now = time.Now
	}
	s.health.Since = s.now()
	if s.maxBatch <= 0 {
		s.maxBatch = 256
	}
	go s.writer()
	if _, err := s.guardRestored(context.Background()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// lockDir takes an exclusive flock on dir/gsmbridge.lock. flock is released by
// the kernel when the process dies, so a kill -9 leaves no stale lock.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "gsmbridge.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if len(holder) > 0 {
				return nil, fmt.Errorf("%w: %s (held by pid %s)", ErrLocked, dir, string(holder))
			}
			return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
		}
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "%d", os.Getpid())
		f.Sync()
	}
	return f, nil
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

// Close stops the writer after it has committed everything submitted before
// Close, then closes the database and releases the lock.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		<-s.done
		return nil
	}
	s.closed = true
	close(s.closing)
	s.closeMu.Unlock()
	<-s.done
	s.wstmts.close()
	s.rstmts.close()
	err := errors.Join(s.wconn.Close(), s.rdb.Close(), s.wdb.Close())
	s.lock.Close()
	return err
}

// LogEnd announces the event log's growth once it is durable.
func (s *Store) LogEnd() *LogEnd { return s.end }
