package sending

// Room is what this host's lanes can start now: idle, usable lanes whose
// limits let a part go, less the messages already queued here that are due,
// since those take lanes first. A fleet pulls this much work from its peers.
type Room struct {
	Free   int
	Routes []Capacity
}

// Capacity is how many of the free lanes work bound to one route may use.
type Capacity struct {
	Route Route
	Free  int
}

// Route is what work may be bound to: a SIM (ICCID), a modem or an operator
// (PLMN); all empty is any lane.
type Route struct {
	SIM, Modem, Operator string
}

// Room reports what this host's lanes can start now.
func (s *Scheduler) Room() Room {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	due := 0
	for _, m := range s.queue {
		if !m.NextAttempt.After(now) {
			due++
		}
	}
	free := 0
	byOperator := map[string]int{}
	var pinned []Capacity
	for id, l := range s.lanes {
		if !l.idle || !l.usable() || l.limitWait(now, 1) > 0 {
			continue
		}
		free++
		byOperator[l.plmn]++
		pinned = append(pinned, Capacity{Route: Route{Modem: id}, Free: 1})
		if l.iccid != "" {
			pinned = append(pinned, Capacity{Route: Route{SIM: l.iccid}, Free: 1})
		}
	}
	free = max(0, free-due)
	if free == 0 {
		return Room{}
	}
	r := Room{Free: free, Routes: []Capacity{{Route: Route{}, Free: free}}}
	for plmn, n := range byOperator {
		r.Routes = append(r.Routes, Capacity{Route: Route{Operator: plmn}, Free: min(n, free)})
	}
	return Room{Free: free, Routes: append(r.Routes, pinned...)}
}

// RoomChanged returns a channel closed after the next dispatch, when lanes
// may have come free.
func (s *Scheduler) RoomChanged() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roomChanged
}
