package service

import (
	"testing"
	"time"

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
