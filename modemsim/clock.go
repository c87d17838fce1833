package modemsim

import "time"

// Clock is the simulator's only source of time, so that tests can run the
// half-hour behaviour of a modem fleet in seconds. Implementations are safe
// for concurrent use.
type Clock interface {
	Now() time.Time
	// After delivers the (virtual) time once d of virtual time has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

// RealClock is the wall clock.
func RealClock() Clock { return realClock{} }

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

type scaledClock struct {
	start     time.Time
	realStart time.Time
	factor    float64
}

// ScaledClock starts at start and runs factor times faster than the wall
// clock; a factor <= 0 is taken as 1.
func ScaledClock(start time.Time, factor float64) Clock {
	if factor <= 0 {
		factor = 1
	}
	return &scaledClock{start: start, realStart: time.Now(), factor: factor}
}

func (c *scaledClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.realStart)) * c.factor))
}

func (c *scaledClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	// The buffered channel lets the timer fire even when nobody waits any
	// more, so an abandoned After never holds a goroutine.
	time.AfterFunc(time.Duration(float64(d)/c.factor), func() { ch <- c.Now() })
	return ch
}
