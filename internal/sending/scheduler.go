package sending

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Scheduler hands queued messages to modem owners. It keeps the queue in
// memory (loaded from the store at start-up); the store stays the truth for
// every state change.
type Scheduler struct {
	now      func() time.Time
	eligible func(m *store.Message, iccid string) bool
	expire   func(id string)

	mu    sync.Mutex
	queue []*waiting       // confirmations first, then by creation
	lanes map[string]*lane // by modem id
	// spent keeps a SIM's send times while it has no lane, by ICCID: the
	// lane that opens next for it (the modem rebooted, or came back on
	// another port) counts them, as the store may not have them yet.
	spent map[string][]time.Time
	// sessions are the USSD sessions that hold a modem's lane, by session
	// id: kept apart from the lanes, which close and open again under a
	// session when the modem reboots.
	sessions map[string]string
	// vetoed lists, by message id, the SIMs the eligibility veto refused
	// the message when dispatch last asked.
	vetoed map[string][]string
	wake   chan struct{}
	pings  chan chan struct{}
	// roomChanged is closed and replaced after each dispatch: lanes may
	// have come free for work from the fleet.
	roomChanged chan struct{}
}

// Ping returns once the dispatch loop itself has answered: proof for the
// systemd watchdog that the loop goroutine is alive and not stuck.
func (s *Scheduler) Ping(ctx context.Context) error {
	p := make(chan struct{})
	select {
	case s.pings <- p:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NewScheduler returns an empty scheduler. eligible (nil = always) may veto a
// SIM for a message; it is called under the scheduler's lock and must be
// quick. expire is called (outside the lock) for each queued message whose
// time ran out.
func NewScheduler(now func() time.Time, eligible func(m *store.Message, iccid string) bool, expire func(id string)) *Scheduler {
	if eligible == nil {
		eligible = func(*store.Message, string) bool { return true }
	}
	return &Scheduler{now: now, eligible: eligible, expire: expire, lanes: map[string]*lane{}, spent: map[string][]time.Time{}, sessions: map[string]string{}, vetoed: map[string][]string{}, wake: make(chan struct{}, 1), pings: make(chan chan struct{}), roomChanged: make(chan struct{})}
}

// Poke makes the scheduler look at its queue again (a confirmation became
// final, so a SIM it blocked may now take a waiting message).
func (s *Scheduler) Poke() { s.poke() }

// waiting is a queued message as the scheduler keeps it: the fields that
// order it, place it on a lane and say what holds it, named as in
// store.Message. whole is the message itself when it came with its parts
// (just accepted, or back from a failed attempt), for the send to reuse.
// One that came without them, like each of the queue loaded at start-up, is
// read from the store again before it is sent anyway, so only these fields
// are kept: 10,000 queued messages then take 2.4 MB of heap instead of the
// 4.8 MB their store.Message copies took.
type waiting struct {
	ID, To, Reference            string
	PinModem, PinOperator, ICCID string
	Parts                        int
	CreatedAt, ExpiresAt         time.Time
	NextAttempt                  time.Time
	confirmation                 bool
	whole                        *store.Message // nil when it came without its parts
}

func newWaiting(m *store.Message) *waiting {
	w := &waiting{ID: m.ID, To: m.To, Reference: m.Reference, PinModem: m.PinModem, PinOperator: m.PinOperator,
		ICCID: m.ICCID, Parts: m.Parts, CreatedAt: m.CreatedAt, ExpiresAt: m.ExpiresAt, NextAttempt: m.NextAttempt,
		confirmation: store.IsConfirmationMessage(m)}
	if len(m.PartList) == m.Parts {
		w.whole = m
	}
	return w
}

// message is what the lane's owner and the eligibility veto get: the whole
// message, or one with the kept fields and no parts, which the send reads
// again from the store.
func (w *waiting) message() *store.Message {
	if w.whole != nil {
		return w.whole
	}
	return &store.Message{ID: w.ID, To: w.To, Reference: w.Reference, PinModem: w.PinModem, PinOperator: w.PinOperator,
		ICCID: w.ICCID, Parts: w.Parts, CreatedAt: w.CreatedAt, ExpiresAt: w.ExpiresAt, NextAttempt: w.NextAttempt}
}

// Enqueue adds a message that has parts left to send. A confirmation SMS
// goes ahead of every plain one: a customer waits at the till for it, and
// a SIM's send limits are spent in queue order.
func (s *Scheduler) Enqueue(m *store.Message) {
	w := newWaiting(m)
	s.mu.Lock()
	i := sort.Search(len(s.queue), func(i int) bool { return queuedBefore(w, s.queue[i]) })
	s.queue = append(s.queue, nil)
	copy(s.queue[i+1:], s.queue[i:])
	s.queue[i] = w
	s.mu.Unlock()
	s.poke()
}

// queuedBefore orders the queue: confirmations first, then by creation.
func queuedBefore(a, b *waiting) bool {
	if a.confirmation != b.confirmation {
		return a.confirmation
	}
	return a.CreatedAt.Before(b.CreatedAt)
}

// Remove drops a queued message (cancelled through the API). It reports
// whether the message was still waiting.
func (s *Scheduler) Remove(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.queue {
		if m.ID == id {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			delete(s.vetoed, id)
			return true
		}
	}
	return false
}

// QueueDepth counts waiting messages, per modem they are pinned to ("" for
// unpinned).
func (s *Scheduler) QueueDepth() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// ServesOperator reports whether any lane serves plmn; the API uses it to
// refuse impossible pins.
func (s *Scheduler) ServesOperator(plmn string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lanes {
		if l.plmn == plmn {
			return true
		}
	}
	return false
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := s.dispatch()
		timer.Reset(next)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		case p := <-s.pings:
			close(p)
		}
	}
}

// Dispatch runs one dispatch round now, as Run does on each wake, for a
// caller that drives the scheduler without Run.
func (s *Scheduler) Dispatch() { s.dispatch() }

// dispatch hands out what it can and returns how long until something held
// may change on its own: a backoff or a send limit running out, or a queued
// message reaching its expiry, which must then be expired on time even if
// nothing else wakes the loop.
func (s *Scheduler) dispatch() time.Duration {
	now := s.now()
	wait := time.Hour
	var expired []string
	s.mu.Lock()
	idle := 0
	for _, l := range s.lanes {
		l.trim(now)
		if l.idle && l.usable() {
			idle++
			// A lane held back by its limits comes free for the fleet's
			// work then, with nothing queued here to wake the loop.
			if lw := l.limitWait(now, 1); lw > 0 {
				wait = min(wait, lw)
			}
		}
	}
	w := &weighing{now: now, vetoed: func(m *waiting, iccid string) bool {
		if s.eligible(m.message(), iccid) {
			return false
		}
		// Kept for Holds, which must not ask the store.
		s.vetoed[m.ID] = append(s.vetoed[m.ID], iccid)
		return true
	}}
	kept := s.queue[:0]
	for _, m := range s.queue {
		if !now.Before(m.ExpiresAt) {
			expired = append(expired, m.ID)
			delete(s.vetoed, m.ID)
			continue
		}
		wait = min(wait, m.ExpiresAt.Sub(now))
		// With no lane free nothing can go: a lane's Done or Unpause wakes
		// the loop, so the queue is not weighed lane by lane for nothing.
		if idle == 0 || m.NextAttempt.After(now) {
			if m.NextAttempt.After(now) {
				wait = min(wait, m.NextAttempt.Sub(now))
			}
			kept = append(kept, m)
			continue
		}
		delete(s.vetoed, m.ID)
		l, _, until, _ := s.place(m, w)
		if l == nil {
			if !until.IsZero() {
				wait = min(wait, until.Sub(now))
			}
			kept = append(kept, m)
			continue
		}
		delete(s.vetoed, m.ID) // another SIM's veto no longer matters
		l.idle = false
		idle--
		l.jobs <- m.message() // never blocks: the lane was idle, so its slot is empty
	}
	clear(s.queue[len(kept):])
	s.queue = kept
	var idled []func()
	for _, l := range s.lanes {
		if l.whenIdle != nil && l.idle {
			idled = append(idled, l.whenIdle)
		}
		l.whenIdle = nil
	}
	close(s.roomChanged)
	s.roomChanged = make(chan struct{})
	s.mu.Unlock()
	for _, f := range idled {
		f()
	}
	for _, id := range expired {
		s.expire(id)
	}
	return wait
}
