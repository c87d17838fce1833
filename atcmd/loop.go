package atcmd

// The engine's goroutines. readLoop turns what the port gives into tokens
// for the inbox and never blocks on the owner; writeLoop performs writes so
// that the owner can give up on one that hangs; run is the owner: it holds
// the running call and takes requests, input, deadlines and alarms in turn.

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// inbox carries what the reader saw to the owner without ever blocking the
// reader: the queue is unbounded and wake only signals that it is non-empty.
type inbox struct {
	mu      sync.Mutex
	events  []inEvent
	discard bool // the owner has stopped
	wake    chan struct{}
}

type inEvent struct {
	tok token
	err error
	at  time.Time
}

func (b *inbox) push(evs ...inEvent) {
	b.mu.Lock()
	if !b.discard {
		b.events = append(b.events, evs...)
	}
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *inbox) take() []inEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	evs := b.events
	b.events = nil
	return evs
}

func (b *inbox) pending() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.events) > 0
}

func (b *inbox) stop() {
	b.mu.Lock()
	b.discard = true
	b.events = nil
	b.mu.Unlock()
}

func (e *Engine) readLoop() {
	var sp splitter
	buf := make([]byte, 4096)
	var toks []token
	for {
		n, err := e.rw.Read(buf)
		// A serial read timeout shows up as (0, nil): nothing to do.
		if n > 0 {
			at := time.Now()
			toks = sp.feed(buf[:n], toks[:0])
			evs := make([]inEvent, len(toks))
			for i, t := range toks {
				evs[i] = inEvent{tok: t, at: at}
			}
			e.in.push(evs...)
		}
		if err != nil {
			e.in.push(inEvent{err: err, at: time.Now()})
			return
		}
	}
}

// writeLoop performs the owner's writes so that the owner can give up on a
// Write that never returns; the goroutine itself then stays blocked until
// the port is closed under it.
func (e *Engine) writeLoop() {
	for {
		select {
		case p := <-e.writes:
			_, err := e.rw.Write(p)
			e.writeRes <- err
		case <-e.done:
			return
		}
	}
}

// write runs on the owner goroutine. It returns ErrHung when the watchdog
// fired, after which the engine must stop.
func (e *Engine) write(p []byte) error {
	e.writes <- p
	t := time.NewTimer(e.opts.WriteTimeout)
	defer t.Stop()
	select {
	case err := <-e.writeRes:
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		return nil
	case <-t.C:
		return ErrHung
	case <-e.quit:
		return ErrClosed
	}
}

func (e *Engine) run() {
	defer close(e.ownerDone)
	for !e.stopped {
		// Lines that arrived while idle are handled as idle before the next
		// command is accepted. While a command runs the select below takes
		// input, so that a flooding modem cannot starve its deadline.
		if e.cur == nil && e.in.pending() {
			select {
			case <-e.quit:
				e.stop(ErrClosed)
			default:
				e.handleInput()
			}
			continue
		}
		var reqs chan *request
		var ctxDone <-chan struct{}
		var alarm <-chan time.Time
		if c := e.cur; c == nil {
			reqs = e.reqs
		} else {
			ctxDone = c.req.ctx.Done()
			if c.alarm != nil {
				alarm = c.alarm.C
			}
		}
		select {
		case r := <-reqs:
			e.start(r)
		case <-e.in.wake:
			e.handleInput()
		case <-ctxDone:
			e.onDeadline()
		case <-alarm:
			e.onAlarm()
		case <-e.quit:
			e.stop(ErrClosed)
		}
	}
}

func (e *Engine) handleInput() {
	for _, ev := range e.in.take() {
		if e.stopped {
			return
		}
		if ev.err != nil {
			e.stop(fmt.Errorf("%w: %w", ErrPortLost, ev.err))
			return
		}
		e.handleToken(ev.tok, ev.at)
	}
}

// stop ends the engine: the running command fails with cause, subscribers
// get what is queued, and Done closes.
func (e *Engine) stop(cause error) {
	if e.stopped {
		return
	}
	e.stopped = true
	if c := e.cur; c != nil {
		e.finish(c, nil, cause)
	}
	if p := e.pendingPDU; p != nil {
		e.pendingPDU = nil
		e.dispatch(*p)
	}
	e.in.stop()
	e.err = cause
	close(e.done)
	if errors.Is(cause, ErrClosed) {
		e.log.Debug("atcmd engine closed")
	} else {
		e.log.Warn("atcmd engine stopped", "err", cause)
	}
}

// writeOrStop writes p; on failure it fails c (and stops the engine when
// the port is hung or the engine closed) and returns false.
func (e *Engine) writeOrStop(c *call, p []byte) bool {
	err := e.write(p)
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrHung), errors.Is(err, ErrClosed):
		e.stop(err)
	default:
		// A failed write may have left half a line in the modem.
		e.needResync = true
		e.finish(c, nil, err)
	}
	return false
}
