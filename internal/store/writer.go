package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The writer: one goroutine owns the write connection and commits the
// writes that Write and WriteAsync queue to it, in batches.

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
	// before is an asynchronous write that commits with this one, in its
	// own savepoint ahead of it, whatever becomes of this one.
	before *writeOp
}

// Tx is a write transaction handed to functions passed to Write. It exposes
// only what the store's own methods need; callers outside the package use the
// typed methods.
type Tx struct {
	conn  *sql.Conn
	stmts *stmtCache
	now   time.Time
	actor string // of the write running now, for the events it appends
	// lastEvent is the id of the newest event the running op appended:
	// a rolled-back op's ids are reused, so only kept ops' ids count.
	lastEvent int64
	// types are those of the events the running op appended, for the
	// followers that wait only for some (LogEnd.ChangedOf).
	types []string
}

// Statements run prepared, each once, on the writer's connection: parsing
// SQL was a third of the daemon's CPU under load.
func (t *Tx) exec(q string, args ...any) (sql.Result, error) {
	st, err := t.stmts.get(q)
	if err != nil {
		return nil, err
	}
	return st.Exec(args...)
}

func (t *Tx) queryRow(q string, args ...any) *sql.Row {
	st, err := t.stmts.get(q)
	if err != nil {
		return t.conn.QueryRowContext(context.Background(), q, args...) // reports the error
	}
	return st.QueryRow(args...)
}

func (t *Tx) query(q string, args ...any) (*sql.Rows, error) {
	st, err := t.stmts.get(q)
	if err != nil {
		return nil, err
	}
	return st.Query(args...)
}

// QueryRow and Query let the store's read helpers run inside a write.
func (t *Tx) QueryRow(q string, args ...any) *sql.Row        { return t.queryRow(q, args...) }
func (t *Tx) Query(q string, args ...any) (*sql.Rows, error) { return t.query(q, args...) }

// Write runs fn in the writer's next transaction and returns once that
// transaction is durable (or failed). fn must not block on anything but the
// database; its changes are rolled back alone if it returns an error.
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error {
	return s.writeAfter(ctx, nil, fn)
}

// writeAfter is Write that also commits before (a WriteAsync-style op) in
// the same transaction, ahead of fn: one fsync for both. before is queued
// even when ctx ends first, on its own then.
func (s *Store) writeAfter(ctx context.Context, before *writeOp, fn func(*Tx) error) error {
	op := &writeOp{fn: fn, done: make(chan error, 1), actor: ActorOf(ctx), before: before}
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		if before != nil {
			before.then(ErrClosed)
		}
		return ErrClosed
	}
	select {
	case s.writes <- op:
	case <-ctx.Done():
		if before != nil {
			s.writes <- before
		}
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
	s.whileOpen(then, func() { s.writes <- &writeOp{fn: fn, then: then} })
}

// whileOpen queues a write with queue, under closeMu so that Close cannot
// drain the queues before it; a closed store tells then instead.
func (s *Store) whileOpen(then func(error), queue func()) {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		then(ErrClosed)
		return
	}
	queue()
	s.closeMu.Unlock()
}

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
			batch = op.addTo(batch)
		case <-s.riders.due.C:
			// The first rider waited its time with no commit to go with.
		case <-s.closing:
			// Drain what was queued before Close, riders first.
			batch = s.riders.take(batch)
			for {
				select {
				case op := <-s.writes:
					batch = op.addTo(batch)
					if len(batch) >= s.maxBatch {
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
				batch = op.addTo(batch)
			default:
				break fill
			}
		}
		if batch = s.riders.take(batch); len(batch) == 0 {
			continue // the riders went with an earlier commit
		}
		s.commit(batch)
	}
}

// addTo appends the op to a batch, behind the write it carries.
func (op *writeOp) addTo(batch []*writeOp) []*writeOp {
	if op.before != nil {
		batch = append(batch, op.before)
	}
	return append(batch, op)
}

// commit runs the batch in one transaction, each op inside its own savepoint
// so that one failing op is rolled back without taking the others with it.
func (s *Store) commit(batch []*writeOp) {
	s.riders.noteCommit()
	results := make([]error, len(batch))
	err := s.latchedFault()
	if err == nil {
		err = s.checkFile()
	}
	wrote, end, types := false, int64(0), []string(nil)
	if err == nil {
		wrote, end, types, err = s.runBatch(batch, results)
	}
	err = Classify(err)
	fault, failed := err, len(batch)
	if err == nil {
		failed = 0
		for i := range results {
			if results[i] = Classify(results[i]); errors.Is(results[i], ErrUnavailable) {
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
		s.end.advance(end, types)
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

// runBatch reports whether the committed batch changed any row, the id
// of the newest event it appended (0 if none) and the types of its events.
func (s *Store) runBatch(batch []*writeOp, results []error) (wrote bool, end int64, types []string, err error) {
	t := &Tx{conn: s.wconn, stmts: s.wstmts, now: s.now()}
	// BEGIN IMMEDIATE takes the write lock at once, so a snapshot can never
	// go stale between a read and a write inside the transaction.
	if _, err := t.exec("BEGIN IMMEDIATE"); err != nil {
		return false, 0, nil, err
	}
	// Rolled-back changes still count in total_changes(): whatever ends
	// the transaction without a commit takes the count first, or the next
	// batch, even one that changes nothing, would look like a write that
	// proves the store healthy (on a full disk it commits too).
	rollback := func() {
		t.queryRow("SELECT total_changes()").Scan(&s.changes)
		s.wconn.ExecContext(context.Background(), "ROLLBACK")
	}
	if len(batch) == 1 {
		// One op needs no savepoint (two statements fewer per commit, most
		// commits at low rates): if it fails, the whole transaction goes.
		t.actor = batch[0].actor
		if results[0] = runOp(batch[0].fn, t); results[0] != nil {
			rollback()
			return false, 0, nil, nil
		}
		end, types = t.lastEvent, t.types
	} else if err := s.runOps(t, batch, results, &end, &types); err != nil {
		rollback()
		return false, 0, nil, err
	}
	var changes int64
	if err := t.queryRow("SELECT total_changes()").Scan(&changes); err != nil {
		rollback()
		return false, 0, nil, err
	}
	if _, err := t.exec("COMMIT"); err != nil {
		// SQLite may or may not have rolled back a commit that failed on
		// a full disk or an I/O error; a transaction left open would make
		// every later BEGIN fail, so end it (an error here means it was).
		rollback()
		return false, 0, nil, err
	}
	wrote, s.changes = changes != s.changes, changes
	return wrote, end, types, nil
}

// runOps runs each op of a batch in its own savepoint, so that one failing
// op is rolled back without taking the others with it; an error means the
// transaction must be rolled back.
func (s *Store) runOps(t *Tx, batch []*writeOp, results []error, end *int64, types *[]string) error {
	for i, op := range batch {
		if _, err := t.exec("SAVEPOINT op"); err != nil {
			return err
		}
		t.actor, t.lastEvent, t.types = op.actor, 0, t.types[:0]
		if results[i] = runOp(op.fn, t); results[i] != nil {
			if _, err := t.exec("ROLLBACK TO op"); err != nil {
				return err
			}
		} else {
			*end = max(*end, t.lastEvent)
			*types = append(*types, t.types...)
		}
		if _, err := t.exec("RELEASE op"); err != nil {
			return err
		}
	}
	return nil
}

func runOp(fn func(*Tx) error, t *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: write panicked: %v", r)
		}
	}()
	return fn(t)
}
