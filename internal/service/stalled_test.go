package service

import (
	"slices"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

func TestSilentReceivingIsAnnouncedOnceAndClearsWhenSMSArrive(t *testing.T) {
	h := startHarnessWith(t, func(c *config.Config) {
		c.Receive.StalledAfter = 300 * time.Millisecond
		// The modem loses its indications and nobody sweeps: receiving stops.
		c.Receive.PollInterval = time.Hour
		c.Health.IdleCheckAfter = time.Hour
	}, modemsim.Generic)
	h.waitReady(1)
	m := h.modems[0]
	own := m.Config().MSISDN
	h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
	h.net.Phones().Send("+79161234567", own, "первое")
	var page inboxPage
	eventually(t, "first SMS received", func() bool {
		h.do("GET", "/v1/inbox", nil, &page)
		return len(page.Messages) == 1
	})
	// Sends keep succeeding.
	var acc struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "ping"}, &acc)
	eventually(t, "send", func() bool {
		var msg api.Message
		h.do("GET", "/v1/messages/"+acc.ID, nil, &msg)
		return msg.State == store.Sent
	})
	iccid := m.Config().ICCID
	eventually(t, "receiving.stalled", func() bool {
		return slices.Contains(h.eventTypes("sim", iccid), "receiving.stalled")
	})
	h.net.Phones().Send("+79161234567", own, "второе")
	eventually(t, "receiving.resumed", func() bool {
		return slices.Contains(h.eventTypes("sim", iccid), "receiving.resumed")
	})
	n := 0
	for _, typ := range h.eventTypes("sim", iccid) {
		if typ == "receiving.stalled" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("receiving.stalled announced %d times, want once", n)
	}
}
