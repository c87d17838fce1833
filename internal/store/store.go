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

// Options tune the store; the zero value is the production setting.
type Options struct {
	// MaxBatch bounds how many writes share one transaction.
	MaxBatch int
	// Now is the clock used for row timestamps; nil means time.Now.
	Now func() time.Time
}

// Store is safe for concurrent use.
type Store struct {
	dir    string
	path   string
	fileID fileID // the database file opened, to notice it deleted or replaced
	lock   *os.File
	wdb    *sql.DB // one connection, used only by the writer goroutine
	rdb    *sql.DB // readers; WAL lets them run beside the writer
	wstmts *stmtCache
	rstmts *stmtCache
	now    func() time.Time

	changes  int64 // the writer connection's total_changes() after its last commit; writer only
	writes   chan *writeOp
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

// WriterStats tells whether the writer makes progress (the systemd watchdog
// and /metrics read it).
type WriterStats struct {
	Commits     uint64
	Writes      uint64
	LastCommit  time.Time
	LastFailure error
}

type writeOp struct {
	fn    func(*Tx) error
	done  chan error  // gets the outcome, unless then is set
	then  func(error) // run by the writer with the outcome
	actor string
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

// Tx is a write transaction handed to functions passed to Write. It exposes
// only what the store's own methods need; callers outside the package use the
// typed methods.
type Tx struct {
	tx    *sql.Tx
	stmts *stmtCache
	now   time.Time
	actor string // of the write running now, for the events it appends
	// lastEvent is the id of the newest event the running op appended:
	// a rolled-back op's ids are reused, so only kept ops' ids count.
	lastEvent int64
}

// Statements run through statements prepared once on the writer's single
// connection: parsing SQL was a third of the daemon's CPU under load. A
// statement seen for the first time runs unprepared and is prepared by the
// writer between transactions: preparing on the pool inside a transaction
// would wait for the one connection the transaction holds.
func (t *Tx) exec(q string, args ...any) (sql.Result, error) {
	if st := t.stmts.lookup(q); st != nil {
		return t.tx.Stmt(st).Exec(args...)
	}
	return t.tx.Exec(q, args...)
}

func (t *Tx) queryRow(q string, args ...any) *sql.Row {
	if st := t.stmts.lookup(q); st != nil {
		return t.tx.Stmt(st).QueryRow(args...)
	}
	return t.tx.QueryRow(q, args...)
}

func (t *Tx) query(q string, args ...any) (*sql.Rows, error) {
	if st := t.stmts.lookup(q); st != nil {
		return t.tx.Stmt(st).Query(args...)
	}
	return t.tx.Query(q, args...)
}

// QueryRow and Query let the store's read helpers run inside a write.
func (t *Tx) QueryRow(q string, args ...any) *sql.Row        { return t.queryRow(q, args...) }
func (t *Tx) Query(q string, args ...any) (*sql.Rows, error) { return t.query(q, args...) }

// stmtCache keeps each distinct statement prepared once per pool.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool // seen, not prepared yet
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// lookup returns the prepared statement, or nil after noting q for
// prepareSeen.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st
	}
	if c.m != nil {
		c.pending[q] = true
	}
	return nil
}

// prepareSeen prepares what lookup missed; only while no transaction holds
// a connection the preparation needs.
func (c *stmtCache) prepareSeen() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q := range c.pending {
		delete(c.pending, q)
		if st, err := c.db.Prepare(q); err == nil {
			c.m[q] = st
		}
	}
}

// get prepares q now: for pools with connections to spare (the readers).
func (c *stmtCache) get(q string) (*sql.Stmt, error) {
	if st := c.lookup(q); st != nil {
		return st, nil
	}
	st, err := c.db.Prepare(q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, q)
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
	file := "file:" + (&url.URL{Path: path}).EscapedPath()
	wdb, err := sql.Open("sqlite", file+"?_txlock=immediate&_pragma=auto_vacuum(2)&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
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
	// take the write lock from under the writer.
	rdb, err := sql.Open("sqlite", file+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_pragma=cache_size(-512)")
	if err != nil {
		wdb.Close()
		lock.Close()
		return nil, fmt.Errorf("store: open readers: %w", err)
	}
	rdb.SetMaxOpenConns(8)
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
	s := &Store{
		path:          path,
		fileID:        id,
		healthChanged: make(chan struct{}),
		wstmts:        newStmtCache(wdb),
		rstmts:        newStmtCache(rdb),
		dir:           dir,
		lock:          lock,
		wdb:           wdb,
		rdb:           rdb,
		now:           opts.Now,
		writes:        make(chan *writeOp, 1024),
		closing:       make(chan struct{}),
		done:          make(chan struct{}),
		maxBatch:      opts.MaxBatch,
		end:           newLogEnd(last.Int64),
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
	err := errors.Join(s.rdb.Close(), s.wdb.Close())
	s.lock.Close()
	return err
}

// Write runs fn in the writer's next transaction and returns once that
// transaction is durable (or failed). fn must not block on anything but the
// database; its changes are rolled back alone if it returns an error.
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error {
	op := &writeOp{fn: fn, done: make(chan error, 1), actor: ActorOf(ctx)}
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return ErrClosed
	}
	select {
	case s.writes <- op:
	case <-ctx.Done():
		s.closeMu.Unlock()
		return ctx.Err()
	}
	s.closeMu.Unlock()
	// Once queued the write will be committed or fail; waiting for it even
	// past ctx keeps callers from reporting "not done" for something that
	// then lands.
	return <-op.done
}

// WriteAsync queues fn like Write but does not wait: the writer calls then
// with the outcome once the transaction is durable (or failed), so then must
// be quick and must not write to the store. Writes are committed in the
// order they are queued, so a later Write that returns proves an earlier
// WriteAsync from the same goroutine durable too: the send path uses this to
// record one SMS as sent in the same fsync as the next one's start, with no
// goroutine waiting per SMS.
func (s *Store) WriteAsync(fn func(*Tx) error, then func(error)) {
	op := &writeOp{fn: fn, then: then}
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		then(ErrClosed)
		return
	}
	s.writes <- op
	s.closeMu.Unlock()
}

// LogEnd announces the event log's growth once it is durable.
func (s *Store) LogEnd() *LogEnd { return s.end }

// Stats reports the writer's progress.
func (s *Store) Stats() WriterStats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.stats
}

func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*writeOp, 0, s.maxBatch)
	for {
		batch = batch[:0]
		select {
		case op := <-s.writes:
			batch = append(batch, op)
		case <-s.closing:
			// Drain what was queued before Close.
			for {
				select {
				case op := <-s.writes:
					batch = append(batch, op)
					if len(batch) == s.maxBatch {
						s.commit(batch)
						batch = batch[:0]
					}
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				s.commit(batch)
			}
			return
		}
	fill:
		for len(batch) < s.maxBatch {
			select {
			case op := <-s.writes:
				batch = append(batch, op)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

// commit runs the batch in one transaction, each op inside its own savepoint
// so that one failing op is rolled back without taking the others with it.
func (s *Store) commit(batch []*writeOp) {
	results := make([]error, len(batch))
	err := s.latchedFault()
	if err == nil {
		err = s.checkFile()
	}
	wrote, end := false, int64(0)
	if err == nil {
		wrote, end, err = s.runBatch(batch, results)
	}
	s.wstmts.prepareSeen()
	err = classify(err)
	fault, failed := err, len(batch)
	if err == nil {
		failed = 0
		for i := range results {
			if results[i] = classify(results[i]); errors.Is(results[i], ErrUnavailable) {
				failed++
				if fault == nil {
					fault = results[i]
				}
			}
		}
	}
	if fault != nil || wrote {
		// A batch that changed no row wrote nothing and proves nothing:
		// it commits on a full disk too.
		s.noteHealth(fault, failed)
	}
	s.statsMu.Lock()
	if err != nil {
		s.stats.LastFailure = err
	} else {
		s.stats.Commits++
		s.stats.Writes += uint64(len(batch))
		s.stats.LastCommit = s.now()
	}
	s.statsMu.Unlock()
	if err == nil {
		// Before the callers hear of their writes: what they learned is
		// committed must already be announced.
		s.end.advance(end)
	}
	for i, op := range batch {
		res := results[i]
		if err != nil {
			res = fmt.Errorf("store: commit: %w", err)
		}
		if op.then != nil {
			op.then(res)
			continue
		}
		op.done <- res
	}
}

// runBatch reports whether the committed batch changed any row, and the id
// of the newest event it appended (0 if none).
func (s *Store) runBatch(batch []*writeOp, results []error) (wrote bool, end int64, err error) {
	tx, err := s.wdb.Begin()
	if err != nil {
		return false, 0, err
	}
	t := &Tx{tx: tx, stmts: s.wstmts, now: s.now()}
	for i, op := range batch {
		if _, err := t.exec("SAVEPOINT op"); err != nil {
			tx.Rollback()
			return false, 0, err
		}
		t.actor, t.lastEvent = op.actor, 0
		if results[i] = runOp(op.fn, t); results[i] != nil {
			if _, err := t.exec("ROLLBACK TO op"); err != nil {
				tx.Rollback()
				return false, 0, err
			}
		} else {
			end = max(end, t.lastEvent)
		}
		if _, err := t.exec("RELEASE op"); err != nil {
			tx.Rollback()
			return false, 0, err
		}
	}
	var changes int64
	if err := t.queryRow("SELECT total_changes()").Scan(&changes); err != nil {
		tx.Rollback()
		return false, 0, err
	}
	if err := tx.Commit(); err != nil {
		// SQLite may or may not have rolled back a commit that failed on
		// a full disk or an I/O error; a transaction left open would make
		// every later BEGIN fail, so end it (an error here means it was).
		s.wdb.Exec("ROLLBACK")
		return false, 0, err
	}
	wrote, s.changes = changes != s.changes, changes
	return wrote, end, nil
}

func runOp(fn func(*Tx) error, t *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: write panicked: %v", r)
		}
	}()
	return fn(t)
}
