package daemon

import (
	"github.com/gsmbridge/gsmbridge/internal/fleet"
)

// Room is what this host's lanes can start now, for the fleet's puller:
// idle, usable lanes whose limits let a part go, less the messages already
// queued here that are due, since those take lanes first.
func (s *Scheduler) Room() fleet.Room {
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
	var pinned []fleet.Capacity
	for id, l := range s.lanes {
		if !l.idle || !l.usable() || l.limitWait(now, 1) > 0 {
			continue
		}
		free++
		byOperator[l.plmn]++
		pinned = append(pinned, fleet.Capacity{Route: fleet.Route{Modem: id}, Free: 1})
		if l.iccid != "" {
			pinned = append(pinned, fleet.Capacity{Route: fleet.Route{SIM: l.iccid}, Free: 1})
		}
	}
	free = max(0, free-due)
	if free == 0 {
		return fleet.Room{}
	}
	r := fleet.Room{Free: free, Routes: []fleet.Capacity{{Route: fleet.Route{}, Free: free}}}
	for plmn, n := range byOperator {
		r.Routes = append(r.Routes, fleet.Capacity{Route: fleet.Route{Operator: plmn}, Free: min(n, free)})
	}
	return fleet.Room{Free: free, Routes: append(r.Routes, pinned...)}
}

// RoomChanged returns a channel closed after the next dispatch, when lanes
// may have come free.
func (s *Scheduler) RoomChanged() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roomChanged
}
