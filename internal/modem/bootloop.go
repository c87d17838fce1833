package modem

import (
	"context"
	"fmt"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
)

// A modem on a weak USB supply, or with autosuspend on, reboots by itself
// again and again: a storm of RDY lines. Each reboot forgets every setting,
// so each is answered with a set-up, two dozen commands or so; answered at
// once every time, a modem that never settles is set up back to back for
// as long as the storm lasts, and each set-up (radio on, registration) draws
// the current whose lack may be what reboots it. The set-ups its reboots
// cause are paced instead: the first two in a row at once (one start-up
// whose lines come spread out, RDY then "+CFUN: 1" during the set-up RDY
// started, takes two), each further one after a wait that doubles from
// rebootWaitMin up to rebootWaitMax. A modem that stays up for
// rebootWaitMax after a set-up is out of the loop: its next reboot is
// answered at once again.

// errAnnouncedReboot ends serve or hold when the modem announced a reboot
// (RDY), as opposed to a start-over for other reasons (a condition cleared,
// a reset found by the health check).
var errAnnouncedReboot = fmt.Errorf("%w: it announced it", errRebooted)

// rebootsAtOnce are the reboots in a row answered without a wait.
const rebootsAtOnce = 2

// bootLoop is what the owner knows of a modem's reboots in a row. Only
// accessed from the owner's goroutine.
type bootLoop struct {
	streak    int       // reboots answered in a row
	lastSetUp time.Time // when the set-up that answered the last one began
}

// wait is how long the set-up that answers a reboot at now waits.
func (b *bootLoop) wait(now time.Time, least, most time.Duration) time.Duration {
	if b.lastSetUp.IsZero() || now.Sub(b.lastSetUp) >= most {
		b.streak = 0
	}
	b.streak++
	if b.streak <= rebootsAtOnce {
		return 0
	}
	return min(least<<min(b.streak-rebootsAtOnce-1, 20), most)
}

// paceReboot waits, when the modem is in a boot loop, before the set-up
// that answers the reboot it announced; the wait is shown in the modem's
// state and counted in its Resets. Boot lines that come meanwhile are
// answered by that set-up (Rebooted.At is before it began); work offered
// meanwhile is refused as on any modem that is not ready.
func paceReboot(ctx context.Context, o *owner) error {
	wait := o.boots.wait(o.p.now(), o.p.rebootWaitMin, o.p.rebootWaitMax)
	if wait > 0 {
		o.log.Warn("the modem keeps rebooting by itself; waiting before setting it up again", "reboots", o.boots.streak, "wait", wait)
		o.setState(api.ModemResetting, fmt.Sprintf("the modem rebooted by itself %d times in a row; set up again in %s", o.boots.streak, wait))
		o.update(func(s *api.Modem) { s.Resets[api.RebootWait]++ })
		t := time.NewTimer(wait)
		defer t.Stop()
	waiting:
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-o.modem.Done():
				return o.modem.Err()
			case c := <-o.calls:
				c.done <- notReady(o)
			case <-t.C:
				break waiting
			}
		}
	}
	o.boots.lastSetUp = o.p.now()
	o.setState(api.ModemProbing, "")
	return nil
}
