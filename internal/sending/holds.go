package sending

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/sms"
)

// Hold reasons: why a queued message is not going. api holds the list; the
// OpenAPI enum and docs/sending.md name the same set.
const (
	HoldNoReadyModem           = api.HoldNoReadyModem
	HoldPinnedModemUnavailable = api.HoldPinnedModemUnavailable
	HoldOperatorPinned         = api.HoldOperatorPinned
	HoldSIMUnavailable         = api.HoldSIMUnavailable
	HoldSIMLimit               = api.HoldSIMLimit
	HoldModemBusy              = api.HoldModemBusy
	HoldConfirmationPending    = api.HoldConfirmationPending
	HoldUSSDSession            = api.HoldUSSDSession
	HoldModemDegraded          = api.HoldModemDegraded
	HoldSIMSuspect             = api.HoldSIMSuspect
	HoldRetryBackoff           = api.HoldRetryBackoff
	HoldModemPaused            = api.HoldModemPaused
)

// pauseHolds names the hold of each Pause reason.
var pauseHolds = map[string]string{"suspect": HoldSIMSuspect, "session": HoldUSSDSession, "degraded": HoldModemDegraded}

// holdRank orders the reasons of several SIMs that could send one message:
// the hold shown is the one expected to clear first.
var holdRank = map[string]int{HoldModemBusy: 0, HoldSIMLimit: 1, HoldConfirmationPending: 2,
	HoldUSSDSession: 3, HoldModemDegraded: 4, HoldModemPaused: 5, HoldSIMSuspect: 6}

// Hold is what keeps a queued message from going. It is worked out from the
// scheduler's own state when asked, under its lock and without I/O: the
// veto's store lookup is not repeated, its last answer in dispatch is used.
type Hold = api.Hold

// Holds says what holds each of the given messages that is waiting in the
// queue. A message missing from the answer is not held: not queued here,
// already handed to a modem, or about to be.
func (s *Scheduler) Holds(ids ...string) map[string]Hold {
	now := s.now()
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := map[string]Hold{}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := &weighing{now: now, waits: map[laneParts]time.Duration{}, exact: true,
		vetoed: func(m *waiting, iccid string) bool { return slices.Contains(s.vetoed[m.ID], iccid) }}
	for _, m := range s.queue {
		if !want[m.ID] {
			continue
		}
		if h, held := s.holdOf(m, w); held {
			out[m.ID] = h
		}
	}
	return out
}

func (s *Scheduler) holdOf(m *waiting, w *weighing) (Hold, bool) {
	now := w.now
	if m.NextAttempt.After(now) {
		return Hold{Reason: HoldRetryBackoff, Until: m.NextAttempt, Detail: "the last attempt failed before the message went out"}, true
	}
	best, why, until, heldBy := s.place(m, w)
	switch {
	case best != nil:
		return Hold{}, false
	case heldBy != nil:
		return Hold{Reason: why, Until: until, Detail: "modem " + heldBy.modemID + ": " + heldBy.holdDetail(why, now, m.Parts)}, true
	}
	h := Hold{Reason: why}
	switch why {
	case HoldNoReadyModem:
		h.Detail = "no modem is ready to send"
	case HoldPinnedModemUnavailable:
		h.Detail = fmt.Sprintf("pinned modem %s is not ready", m.PinModem)
	case HoldOperatorPinned:
		h.Detail = fmt.Sprintf("no SIM of pinned operator %s is in a ready modem", m.PinOperator)
	case HoldSIMUnavailable:
		h.Detail = "its first parts went out through SIM " + sms.MaskDigits(m.ICCID) + ", which is not in a ready modem"
	}
	return h, true
}

// weighing is one round of weighing lanes against queued messages.
type weighing struct {
	now time.Time
	// waits caches each lane's limit wait for a number of parts; nil
	// for none.
	waits map[laneParts]time.Duration
	// vetoed is asked last, only of a lane that could send at once.
	vetoed func(*waiting, string) bool
	// exact asks, of a busy lane, whether a limit holds it too (for
	// Holds); dispatch only needs to know the lane is not free.
	exact bool
}

// place finds the lane that takes m now, or what holds it: a reason, the
// time it lets go when known, and the lane it applies to (nil when no lane
// may send m at all). Lanes are tried in the order: pinned modem, pinned
// operator, bound SIM; of those left, a free one with the fewest recent
// sends wins.
func (s *Scheduler) place(m *waiting, w *weighing) (best *lane, why string, until time.Time, heldBy *lane) {
	modemOK, operatorOK, simOK := false, false, false
	for _, l := range s.lanes {
		if m.PinModem != "" && l.modemID != m.PinModem {
			continue
		}
		modemOK = true
		if m.PinOperator != "" && l.plmn != m.PinOperator {
			continue
		}
		operatorOK = true
		if m.ICCID != "" && l.iccid != m.ICCID {
			continue
		}
		simOK = true
		r, u := l.hold(m, w)
		if r != "" {
			if heldBy == nil || holdRank[r] < holdRank[why] || (r == why && u.Before(until)) {
				heldBy, why, until = l, r, u
			}
			continue
		}
		if best == nil || len(l.sent) < len(best.sent) || (len(l.sent) == len(best.sent) && l.modemID < best.modemID) {
			best = l
		}
	}
	switch {
	case best != nil, heldBy != nil:
		return best, why, until, heldBy
	case m.PinModem != "" && !modemOK:
		return nil, HoldPinnedModemUnavailable, time.Time{}, nil
	case m.PinOperator != "" && !operatorOK:
		return nil, HoldOperatorPinned, time.Time{}, nil
	case m.ICCID != "" && !simOK:
		return nil, HoldSIMUnavailable, time.Time{}, nil
	}
	return nil, HoldNoReadyModem, time.Time{}, nil
}

type laneParts struct {
	l     *lane
	parts int
}

// hold returns what holds m on l ("" when l can take it now) and, for a
// send limit, when it lets go.
func (l *lane) hold(m *waiting, w *weighing) (string, time.Time) {
	if !l.usable() {
		for _, p := range []string{"suspect", "degraded", "session"} {
			if l.paused[p] {
				return pauseHolds[p], time.Time{}
			}
		}
		return HoldModemPaused, time.Time{}
	}
	if !l.idle && !w.exact {
		return HoldModemBusy, time.Time{}
	}
	d, ok := w.waits[laneParts{l, m.Parts}]
	if !ok {
		d = l.limitWait(w.now, m.Parts)
		if w.waits != nil {
			w.waits[laneParts{l, m.Parts}] = d
		}
	}
	switch {
	case d > 0:
		return HoldSIMLimit, w.now.Add(d)
	case !l.idle:
		return HoldModemBusy, time.Time{}
	case w.vetoed(m, l.iccid):
		return HoldConfirmationPending, time.Time{}
	}
	return "", time.Time{}
}

// holdDetail says for people what holds a message of parts parts on l.
func (l *lane) holdDetail(why string, now time.Time, parts int) string {
	switch why {
	case HoldSIMLimit:
		for _, w := range l.windows() {
			if n := l.sentWithin(now, w.span); w.limit > 0 && n+parts > w.limit {
				return fmt.Sprintf("%s limit %d reached (%d sent, %d parts to send)", w.name, w.limit, n, parts)
			}
		}
	case HoldModemBusy:
		return "it is sending another message"
	case HoldConfirmationPending:
		return "the customer has an open confirmation on this SIM"
	}
	for p, h := range pauseHolds {
		if h == why {
			return pauseDetail[p]
		}
	}
	var reasons []string
	for p := range l.paused {
		reasons = append(reasons, p)
	}
	slices.Sort(reasons)
	return "it takes no work for now (" + strings.Join(reasons, ", ") + ")"
}

var pauseDetail = map[string]string{
	"suspect":  "its SIM failed several sends in a row and rests until its cool-down check or a resume",
	"degraded": "it stopped answering and is being probed",
	"session":  "it is in a USSD session",
}
