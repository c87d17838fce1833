package sending

import (
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// SendLimits are a SIM's send budgets.
type SendLimits = api.SendLimits

// lane is one SIM ready to take work through its modem's owner.
type lane struct {
	modemID string
	iccid   string
	plmn    string
	limits  SendLimits
	jobs    chan *store.Message // capacity 1: the owner takes one job at a time
	idle    bool
	// whenIdle, set by Done, runs once if the next dispatch round leaves
	// the lane with nothing to send.
	whenIdle func()
	paused   map[string]bool // why the lane takes no work now: "session", "suspect", "degraded"
	sent     []time.Time     // part send times within the last day
}

// AddLane registers a SIM that can send; jobs arrive on the returned channel.
// sent (the store's record) seeds the limit windows with what the SIM sent
// recently, the first time the SIM has a lane; once it had one, the
// scheduler's own count is kept instead: it has every part the SIM's lanes
// sent or may have sent, while the store may still lack the last one's
// record (it rides a later commit) or one the failing store refused. A
// USSD session that holds the modem (HoldForSession) pauses the lane from
// the start.
func (s *Scheduler) AddLane(modemID, iccid, plmn string, limits SendLimits, sent []time.Time) <-chan *store.Message {
	l := &lane{modemID: modemID, iccid: iccid, plmn: plmn, limits: limits, jobs: make(chan *store.Message, 1), idle: true, paused: map[string]bool{}, sent: sent}
	s.mu.Lock()
	if kept, ok := s.spent[iccid]; ok {
		l.sent = kept
		delete(s.spent, iccid)
	}
	if s.sessionHolds(modemID) {
		// A session the modem was in before its lane closed (a reboot)
		// holds the new lane too.
		l.paused["session"] = true
	}
	s.lanes[modemID] = l
	s.mu.Unlock()
	s.poke()
	return l.jobs
}

// RemoveLane stops giving work to a modem. A job the owner already took
// stays with it, and it finishes or requeues it; one still waiting in the
// lane goes back to the queue.
func (s *Scheduler) RemoveLane(modemID string) {
	s.mu.Lock()
	l := s.lanes[modemID]
	delete(s.lanes, modemID)
	if l != nil {
		l.trim(s.now())
		s.spent[l.iccid] = l.sent
	}
	s.mu.Unlock()
	if l != nil {
		// A job handed over but not yet taken goes back to the queue.
		select {
		case m := <-l.jobs:
			s.Enqueue(m)
		default:
		}
	}
	s.poke()
}

// Pause stops giving work to a lane for a reason, without forgetting the
// lane; the lane works again once every reason is lifted with Unpause.
// Reasons are independent: a USSD session ending does not resume a SIM that
// is suspect.
func (s *Scheduler) Pause(modemID, reason string) {
	s.mu.Lock()
	if l := s.lanes[modemID]; l != nil {
		l.paused[reason] = true
	}
	s.mu.Unlock()
}

// Unpause lifts one reason set by Pause.
func (s *Scheduler) Unpause(modemID, reason string) {
	s.mu.Lock()
	if l := s.lanes[modemID]; l != nil {
		delete(l.paused, reason)
	}
	s.mu.Unlock()
	s.poke()
}

// HoldForSession pauses a modem's lane for a USSD session, and again each
// time the lane opens while the session lasts: a modem that reboots or loses
// its port mid-session closes its lane, and the lane it opens once set up
// again must not send either (many modems abort or garble a USSD dialogue
// when AT+CMGS runs). The hold is the session's until ReleaseSession.
func (s *Scheduler) HoldForSession(modemID, sessionID string) {
	s.mu.Lock()
	s.sessions[sessionID] = modemID
	if l := s.lanes[modemID]; l != nil {
		l.paused["session"] = true
	}
	s.mu.Unlock()
}

// ReleaseSession lifts a session's hold. The lane stays paused while
// another session holds it (one that began while this one was closing), or
// for another reason. Releasing a session that holds nothing does nothing.
func (s *Scheduler) ReleaseSession(sessionID string) {
	s.mu.Lock()
	modemID, ok := s.sessions[sessionID]
	delete(s.sessions, sessionID)
	if l := s.lanes[modemID]; ok && l != nil && !s.sessionHolds(modemID) {
		delete(l.paused, "session")
	}
	s.mu.Unlock()
	s.poke()
}

// HeldSessions lists the sessions that hold a lane, open or not.
func (s *Scheduler) HeldSessions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.sessions))
	for id := range s.sessions {
		ids = append(ids, id)
	}
	return ids
}

// sessionHolds reports whether a session holds the modem's lane. Called
// with s.mu held.
func (s *Scheduler) sessionHolds(modemID string) bool {
	for _, m := range s.sessions {
		if m == modemID {
			return true
		}
	}
	return false
}

func (l *lane) usable() bool { return len(l.paused) == 0 }

// Done tells the scheduler a lane finished its job and sent parts at the
// given times (those whose outcome is unknown included: they may have gone
// out, and count toward the SIM's limits). whenIdle (may be nil) runs, outside the scheduler's lock, if
// the dispatch round that follows gives the lane no new job.
func (s *Scheduler) Done(modemID string, partsSent []time.Time, whenIdle func()) {
	s.mu.Lock()
	if l := s.lanes[modemID]; l != nil {
		l.idle = true
		l.sent = append(l.sent, partsSent...)
		l.whenIdle = whenIdle
	}
	s.mu.Unlock()
	s.poke()
}

func (l *lane) trim(now time.Time) {
	cut := now.Add(-24 * time.Hour)
	i := 0
	for i < len(l.sent) && l.sent[i].Before(cut) {
		i++
	}
	l.sent = l.sent[i:]
}

type window struct {
	name  string
	limit int
	span  time.Duration
}

func (l *lane) windows() [3]window {
	return [3]window{{"per_minute", l.limits.PerMinute, time.Minute}, {"per_hour", l.limits.PerHour, time.Hour}, {"per_day", l.limits.PerDay, 24 * time.Hour}}
}

// sentWithin counts the parts sent in the span before now.
func (l *lane) sentWithin(now time.Time, span time.Duration) int {
	from := now.Add(-span)
	n := 0
	for _, t := range l.sent {
		if t.After(from) {
			n++
		}
	}
	return n
}

// limitWait returns how long until parts more sends fit every window.
func (l *lane) limitWait(now time.Time, parts int) time.Duration {
	var wait time.Duration
	for _, w := range l.windows() {
		if w.limit <= 0 {
			continue
		}
		from := now.Add(-w.span)
		var in []time.Time
		for _, t := range l.sent {
			if t.After(from) {
				in = append(in, t)
			}
		}
		if len(in)+parts <= w.limit {
			continue
		}
		// The window frees a slot when its oldest sends age out.
		over := len(in) + parts - w.limit
		if over > len(in) {
			// Even an empty window could not take this many parts at
			// once; let it go when the window is empty.
			over = len(in)
		}
		if over == 0 {
			continue
		}
		d := in[over-1].Add(w.span).Sub(now)
		if d > wait {
			wait = d
		}
	}
	return wait
}

// LaneLoad is what the modems API shows of a lane.
type LaneLoad = api.LaneLoad

// Loads reports each lane's load, by modem id, from one pass over the queue.
func (s *Scheduler) Loads() map[string]LaneLoad {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]LaneLoad, len(s.lanes))
	byICCID := map[string]string{}
	for id, l := range s.lanes {
		out[id] = LaneLoad{SentLastDay: l.sentWithin(now, 24*time.Hour), SentLastHour: l.sentWithin(now, time.Hour), Limits: l.limits}
		byICCID[l.iccid] = id
	}
	for _, m := range s.queue {
		id := m.PinModem
		if id == "" && m.ICCID != "" {
			id = byICCID[m.ICCID]
		}
		if ll, ok := out[id]; ok {
			ll.Queued++
			out[id] = ll
		}
	}
	return out
}
