package sending

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestRoomOffersTheFleetOnlyLanesThatCanSendNow(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t0}
	s := NewScheduler(clock.now, nil, func(string) {})
	s.AddLane("mA", "iccA", "25001", SendLimits{}, nil)
	s.AddLane("mB", "iccB", "25001", SendLimits{PerMinute: 1}, []time.Time{t0.Add(-10 * time.Second)}) // at its limit
	s.AddLane("mC", "iccC", "25020", SendLimits{}, nil)
	s.AddLane("mD", "iccD", "25099", SendLimits{}, nil)
	s.Pause("mD", "suspect")

	changed := s.RoomChanged()
	r := s.Room()
	var routes []string
	for _, c := range r.Routes {
		routes = append(routes, routeName(c.Route)+"="+strconv.Itoa(c.Free))
	}
	slices.Sort(routes)
	want := []string{"any=2", "modem.mA=1", "modem.mC=1", "op.25001=1", "op.25020=1", "sim.iccA=1", "sim.iccC=1"}
	if r.Free != 2 || !slices.Equal(routes, want) {
		t.Fatalf("room %d %v, want 2 %v", r.Free, routes, want)
	}

	// A message queued here takes a lane first; dispatch says so.
	s.Enqueue(msg("local", t0))
	s.dispatch()
	select {
	case <-changed:
	default:
		t.Fatal("dispatch did not announce a change of room")
	}
	if r := s.Room(); r.Free != 1 {
		t.Fatalf("room after a local job: %+v", r)
	}
	// The limited lane comes free when its minute is over.
	clock.t = t0.Add(time.Minute)
	if r := s.Room(); r.Free != 2 {
		t.Fatalf("room after mB's minute: %+v", r)
	}
}

func routeName(r Route) string {
	switch {
	case r.SIM != "":
		return "sim." + r.SIM
	case r.Modem != "":
		return "modem." + r.Modem
	case r.Operator != "":
		return "op." + r.Operator
	}
	return "any"
}
