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

// A SIM's operator blocks it when it sends more than its limit allows, so
// every part that may have gone out counts toward the limit: one whose
// outcome is unknown (the PDU was written, no answer came) and the last
// one before the modem rebooted, whose record may still wait for a later
// commit. The message after the limit waits for the window: the modem
// never sees a fourth AT+CMGS within the minute.
func TestEverySendThatMayHaveGoneOutCountsTowardTheSIMsLimit(t *testing.T) {
	tests := []struct {
		name string
		// last sends the third message; it returns once that message's
		// PDU reached the modem.
		last func(t *testing.T, h *harness, send func(string) string)
	}{
		{"last outcome unknown", func(t *testing.T, h *harness, send func(string) string) {
			m := h.modems[0]
			// No answer within send.command_timeout: the outcome is unknown.
			m.Faults().SetLatency("AT+CMGS", 600*time.Millisecond)
			id := send("3")
			h.waitMessage(id, func(msg api.Message) bool { return msg.State == store.Unknown })
			m.Faults().SetLatency("AT+CMGS", 0)
		}},
		{"reboot right after the last send", func(t *testing.T, h *harness, send func(string) string) {
			m := h.modems[0]
			send("3")
			eventually(t, "the third PDU at the modem", func() bool { return len(m.Record().Sent()) == 3 })
			m.Reboot()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := startHarnessWith(t, func(c *config.Config) {
				c.Operators = []config.Operator{{PLMN: []string{"25001"}, Limits: config.Limits{PerMinute: 3, PerHour: -1, PerDay: -1}}}
				c.Send.CommandTimeout = 300 * time.Millisecond
			}, modemsim.Generic)
			h.waitReady(1)
			h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
			send := func(text string) string {
				var acc struct{ ID string }
				if code := h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": text}, &acc); code != 202 {
					t.Fatalf("POST %s: %d", text, code)
				}
				return acc.ID
			}
			for i := 1; i <= 2; i++ {
				id := send(fmt.Sprint(i))
				h.waitMessage(id, func(msg api.Message) bool { return msg.State == store.Sent })
			}
			tc.last(t, h, send)

			id := send("4")
			var m api.Message
			h.waitMessage(id, func(msg api.Message) bool {
				m = msg
				return msg.State != store.Queued || (msg.Hold != nil && msg.Hold.Reason == api.HoldSIMLimit)
			})
			if n := h.modems[0].Record().Commands("AT+CMGS="); n != 3 || m.State != store.Queued {
				t.Fatalf("the modem got %d AT+CMGS within the minute and the fourth message is %s (hold %+v); want 3, and it held by %s",
					n, m.State, m.Hold, api.HoldSIMLimit)
			}
			if m.Hold.Until.IsZero() {
				t.Fatalf("hold %+v says no time: the window's end is known", m.Hold)
			}
		})
	}
}

// waitMessage waits until message id satisfies ok.
func (h *harness) waitMessage(id string, ok func(api.Message) bool) {
	h.t.Helper()
	eventually(h.t, "message "+id, func() bool {
		var m api.Message
		h.do("GET", "/v1/messages/"+id, nil, &m)
		return ok(m)
	})
}
