package modem

import (
	"sync/atomic"
	"time"
)

// probeBudget keeps a modem that cannot work within the idle command budget
// (health.commands_per_minute). Every command since the modem last worked
// counts: set-up and identity as much as the re-checks. A modem whose SIM
// looks ready to AT+CPIN? but fails again in set-up (a SIM that gives no
// IMSI) would otherwise be set up again at every re-check, 16 commands a
// minute, for ever.
type probeBudget struct {
	sent atomic.Int64 // commands the owner's engines sent; the engine's Observe adds

	// Only accessed from the owner's goroutine.
	from  int64     // sent when the modem last worked or the owner started
	since time.Time // and when
}

// restart opens a new account: the modem works (or the owner just began).
func (b *probeBudget) restart(now time.Time) {
	b.from, b.since = b.sent.Load(), now
}

// wait is how long to wait before the next re-check: at least minWait, and
// until the commands spent since the account opened fit perWindow commands
// per window.
func (b *probeBudget) wait(now time.Time, minWait, window time.Duration, perWindow int) time.Duration {
	spent := b.sent.Load() - b.from
	due := b.since.Add(time.Duration(spent) * window / time.Duration(max(perWindow, 1)))
	return max(minWait, due.Sub(now))
}
