package service

import (
	"fmt"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// A SIM that turned suspect is checked again once its cool-down has
// passed: registered, it is resumed and takes work again.
func TestSuspectSIMResumesAfterItsCooldown(t *testing.T) {
	h := startHarnessWith(t, func(c *config.Config) {
		c.Send.SuspectAfter = 1
		c.Send.MaxAttempts = 1
		c.Send.SuspectCooldown = 300 * time.Millisecond
	}, modemsim.Generic)
	h.waitReady(1)
	h.modems[0].Faults().FailSends(1, 38)
	h.net.Phones().Add("+79160000001", modemsim.PhoneRule{Never: true})
	var acc struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": "+79160000001", "text": "x"}, &acc)
	eventually(t, "the SIM suspect", func() bool { return h.simState() == store.SIMSuspect })
	eventually(t, "the SIM active again after its cool-down", func() bool { return h.simState() == store.SIMActive })
	h.do("POST", "/v1/messages", map[string]any{"to": "+79160000001", "text": "y"}, &acc)
	eventually(t, "the next message sent through it", func() bool {
		var m store.Message
		h.do("GET", "/v1/messages/"+acc.ID, nil, &m)
		return m.State == store.Sent
	})
	var modems struct{ Modems []ModemStatus }
	h.do("GET", "/v1/modems", nil, &modems)
	if len(modems.Modems) != 1 || modems.Modems[0].SIMState != store.SIMActive {
		t.Fatalf("modems %+v, want the SIM shown active", modems.Modems)
	}
}

// simState is the state of the harness's only SIM.
func (h *harness) simState() string {
	var sims struct{ SIMs []store.SIM }
	h.do("GET", "/v1/sims", nil, &sims)
	if len(sims.SIMs) != 1 {
		return ""
	}
	return sims.SIMs[0].State
}

// A SIM the network bars (its operator cut it off, usually for an unpaid
// bill, or SMS is not in its subscription) refuses every message, not the
// one it was given: nothing went out, so the message goes through another
// SIM, and the barred SIM takes no more work at once instead of failing
// suspect_after customers' messages first.
func TestBarredSIMPassesTheMessageOnAndStopsTakingWork(t *testing.T) {
	for _, cms := range []int{8, 10, 50} {
		t.Run(fmt.Sprintf("CMS %d", cms), func(t *testing.T) {
			h := startHarnessWith(t, func(c *config.Config) {
				c.Send.RetryBackoff = 50 * time.Millisecond
				c.Send.SuspectCooldown = time.Hour
			}, modemsim.Generic, modemsim.Generic)
			h.waitReady(2)
			var modems struct{ Modems []ModemStatus }
			h.do("GET", "/v1/modems", nil, &modems)
			// Of two idle SIMs with no sends the lower modem id takes the
			// message first: that one is barred.
			byPort := map[string]string{}
			for _, m := range modems.Modems {
				byPort[m.Port] = m.ID
			}
			bad, good := h.modems[0], h.modems[1]
			if byPort[good.Path()] < byPort[bad.Path()] {
				bad, good = good, bad
			}
			bad.Faults().FailSends(100, cms)
			h.net.Phones().Add("+79160000001", modemsim.PhoneRule{Never: true})
			var acc struct{ ID string }
			h.do("POST", "/v1/messages", map[string]any{"to": "+79160000001", "text": "код 1234"}, &acc)
			var m api.Message
			eventually(t, "the message final", func() bool {
				h.do("GET", "/v1/messages/"+acc.ID, nil, &m)
				return m.State != store.Queued && m.State != store.Sending
			})
			if m.State != store.Sent || m.Modem != byPort[good.Path()] {
				t.Fatalf("message %s through %q (last error %+v), want sent through %s", m.State, m.Modem, m.LastError, byPort[good.Path()])
			}
			if n := bad.Record().Commands("AT+CMGS"); n != 1 {
				t.Fatalf("the barred SIM was tried %d times, want once", n)
			}
			if n := len(good.Record().Sent()); n != 1 {
				t.Fatalf("the other SIM sent %d, want 1", n)
			}
			var sims struct{ SIMs []api.SIM }
			h.do("GET", "/v1/sims", nil, &sims)
			for _, s := range sims.SIMs {
				if want := map[bool]string{true: store.SIMSuspect, false: store.SIMActive}[s.Modem == byPort[bad.Path()]]; s.State != want {
					t.Fatalf("SIM in %s is %s, want %s", s.Modem, s.State, want)
				}
			}
		})
	}
}
