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
func (o *owner) write(p []byte) error {
	o.writes <- p
	t := time.NewTimer(o.opts.WriteTimeout)
	defer t.Stop()
	select {
	case err := <-o.writeRes:
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		return nil
	case <-t.C:
		return ErrHung
	case <-o.quit:
		return ErrClosed
	}
}

// owner is the owner goroutine's side of the engine: the running call and
// the line's resync state. The Engine keeps no reference to it, so nothing
// but run and what run calls can touch these fields; the embedded Engine
// gives it the channels, options and subscribers it serves.
type owner struct {
	*Engine

	cur        *call
	needResync bool   // a late answer may still be on its way
	lostPrefix string // prefix of the command whose answer was lost
	markerTurn int
	pendingPDU *Indication // +CMT/+CDS waiting for its second line
	stopped    bool
}

func (o *owner) run() {
	defer close(o.ownerDone)
	for !o.stopped {
		// Lines that arrived while idle are handled as idle before the next
		// command is accepted. While a command runs the select below takes
		// input, so that a flooding modem cannot starve its deadline.
		if o.cur == nil && o.in.pending() {
			select {
			case <-o.quit:
				o.stop(ErrClosed)
			default:
				o.handleInput()
			}
			continue
		}
		var reqs chan *request
		var ctxDone <-chan struct{}
		var alarm <-chan time.Time
		if c := o.cur; c == nil {
			reqs = o.reqs
		} else {
			ctxDone = c.req.ctx.Done()
			if c.alarm != nil {
				alarm = c.alarm.C
			}
		}
		select {
		case r := <-reqs:
			o.start(r)
		case <-o.in.wake:
			o.handleInput()
		case <-ctxDone:
			o.onDeadline()
		case <-alarm:
			o.onAlarm()
		case <-o.quit:
			o.stop(ErrClosed)
		}
	}
}

func (o *owner) handleInput() {
	for _, ev := range o.in.take() {
		if o.stopped {
			return
		}
		if ev.err != nil {
			o.stop(fmt.Errorf("%w: %w", ErrPortLost, ev.err))
			return
		}
		o.handleToken(ev.tok, ev.at)
	}
}

// stop ends the engine: the running command fails with cause, subscribers
// get what is queued, and Done closes.
func (o *owner) stop(cause error) {
	if o.stopped {
		return
	}
	o.stopped = true
	if c := o.cur; c != nil {
		o.finish(c, nil, cause)
	}
	if p := o.pendingPDU; p != nil {
		o.pendingPDU = nil
		o.dispatch(*p)
	}
	o.in.stop()
	o.err = cause
	close(o.done)
	if errors.Is(cause, ErrClosed) {
		o.log.Debug("atcmd engine closed")
	} else {
		o.log.Warn("atcmd engine stopped", "err", cause)
	}
}

// writeOrStop writes p; on failure it fails c (and stops the engine when
// the port is hung or the engine closed) and returns false.
func (o *owner) writeOrStop(c *call, p []byte) bool {
	err := o.write(p)
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrHung), errors.Is(err, ErrClosed):
		o.stop(err)
	default:
		// A failed write may have left half a line in the modem.
		o.needResync = true
		o.finish(c, nil, err)
	}
	return false
}
