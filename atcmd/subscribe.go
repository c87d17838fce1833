package atcmd

import "sync"

// Subscribe returns a channel of unsolicited indications in arrival order.
// Delivery never blocks the engine and never drops: each subscriber has an
// unbounded queue drained by its own goroutine. cancel unsubscribes, waits
// for that goroutine and closes the channel. When the engine stops by itself
// (port lost, hung) the channel closes after the queued indications were
// delivered; Close drops them. Indications that arrive before the first
// Subscribe (a boot burst right after New) are kept for the first
// subscriber, up to maxBacklog of them.
func (e *Engine) Subscribe() (<-chan Indication, func()) {
	s := &subscriber{
		wake:   make(chan struct{}, 1),
		out:    make(chan Indication),
		cancel: make(chan struct{}),
		exited: make(chan struct{}),
	}
	e.subMu.Lock()
	if e.closed {
		e.subMu.Unlock()
		close(s.out)
		return s.out, func() {}
	}
	if !e.subscribed {
		e.subscribed = true
		s.queue, e.backlog = e.backlog, nil
	}
	e.subs[s] = struct{}{}
	e.dispatchers.Add(1)
	e.subMu.Unlock()
	go func() {
		defer e.dispatchers.Done()
		s.run(e.done, e.quit)
	}()
	var once sync.Once
	return s.out, func() {
		once.Do(func() {
			e.subMu.Lock()
			delete(e.subs, s)
			e.subMu.Unlock()
			close(s.cancel)
			<-s.exited
		})
	}
}

// dispatch runs on the owner goroutine.
func (e *Engine) dispatch(ind Indication) {
	e.log.Debug("atcmd indication", "name", ind.Name)
	e.subMu.Lock()
	defer e.subMu.Unlock()
	if !e.subscribed {
		if len(e.backlog) < maxBacklog {
			e.backlog = append(e.backlog, ind)
		}
		return
	}
	for s := range e.subs {
		s.push(ind)
	}
}

// maxBacklog bounds what is kept for a first subscriber that never comes.
const maxBacklog = 1024

type subscriber struct {
	mu     sync.Mutex
	queue  []Indication
	wake   chan struct{}
	out    chan Indication
	cancel chan struct{}
	exited chan struct{}
}

func (s *subscriber) push(ind Indication) {
	s.mu.Lock()
	s.queue = append(s.queue, ind)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscriber) pop() (Indication, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return Indication{}, false
	}
	ind := s.queue[0]
	s.queue[0] = Indication{}
	s.queue = s.queue[1:]
	return ind, true
}

// run delivers until cancelled, until the engine is closed, or until the
// engine stopped and the queue is empty (nothing is pushed after done).
func (s *subscriber) run(done, quit <-chan struct{}) {
	defer close(s.exited)
	defer close(s.out)
	for {
		ind, ok := s.pop()
		if !ok {
			select {
			case <-s.wake:
				continue
			case <-done:
				if s.hasQueued() {
					continue
				}
				return
			case <-s.cancel:
				return
			case <-quit:
				return
			}
		}
		select {
		case s.out <- ind:
		case <-s.cancel:
			return
		case <-quit:
			return
		}
	}
}

func (s *subscriber) hasQueued() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) > 0
}
