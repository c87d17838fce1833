package service

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// A modem that reboots during an open USSD session closes its lane and opens
// it again once it is set up: the session's pause must come back with the
// lane, or an SMS goes out in the middle of the dialogue (many modems abort
// or garble it when AT+CMGS runs). Whenever the message was queued, the
// modem receives no AT+CMGS before the AT+CUSD=2 that ends the session,
// and the message goes out after it.
func TestSessionPauseSurvivesAModemReboot(t *testing.T) {
	tests := []struct {
		name string
		// queuedDuringSetUp queues the message while the modem is set
		// up again after the reboot (its lane closed), not before the
		// reboot.
		queuedDuringSetUp bool
		// timeout leaves the session to its cap instead of ending it.
		timeout bool
	}{
		{name: "queued before the reboot, ended by the client"},
		{name: "queued during the set-up, ended by the client", queuedDuringSetUp: true},
		{name: "queued before the reboot, timed out", timeout: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startUSSDHarness(t, func(cfg *config.Config, _ []*modemsim.Modem) {
				if tt.timeout {
					// Long enough for the reboot and the set-up after it.
					cfg.USSD.SessionTimeout = 3 * time.Second
				}
			}, simSpec{modemsim.SIMCom, "25001"})
			m := h.modems[0]
			id := h.modemID(m)
			h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
			var open api.USSDAnswer
			if code := h.do("POST", "/v1/modems/"+id+"/ussd", map[string]string{"code": "*111#"}, &open); code != http.StatusOK || !open.Open {
				t.Fatalf("menu not open: %d %+v", code, open)
			}
			var acc struct{ ID string }
			queue := func() {
				t.Helper()
				if code := h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "платёж", "modem": id}, &acc); code != http.StatusAccepted {
					t.Fatalf("accept: %d", code)
				}
			}
			setUps := m.Record().Commands("AT+CNMI=")
			if tt.queuedDuringSetUp {
				// The set-up after the reboot waits at AT+CNMI, before
				// the lane opens, while the message is queued.
				m.Faults().SetLatency("AT+CNMI=", 300*time.Millisecond)
				m.Reboot()
				eventually(t, "the set-up after the reboot", func() bool { return m.Record().Commands("AT+CNMI=") > setUps })
				queue()
			} else {
				queue()
				m.Reboot()
			}
			// Once the lane is back, the message waits for the session
			// (or, on a lane that forgot the pause, has gone).
			eventually(t, "the lane back and the message held or gone", func() bool {
				if m.Record().Commands("AT+CNMI=") <= setUps || h.modemStatus(m.Path()).State != StateReady {
					return false
				}
				var msg api.Message
				h.do("GET", "/v1/messages/"+acc.ID, nil, &msg)
				return msg.State != store.Queued || (msg.Hold != nil && msg.Hold.Reason == api.HoldUSSDSession)
			})
			if !tt.timeout {
				if code := h.do("DELETE", "/v1/ussd/"+open.SessionID, nil, nil); code != http.StatusOK {
					t.Fatalf("end: %d", code)
				}
			}
			eventually(t, "the message sent after the session", func() bool {
				var msg api.Message
				h.do("GET", "/v1/messages/"+acc.ID, nil, &msg)
				return msg.State == store.Sent
			})
			lines := m.Record().CommandLines()
			start, end, send := -1, -1, -1
			for i, l := range lines {
				switch {
				case start < 0 && strings.HasPrefix(l, "AT+CUSD=1"):
					start = i
				case start >= 0 && end < 0 && strings.HasPrefix(l, "AT+CUSD=2"):
					end = i
				case send < 0 && strings.HasPrefix(l, "AT+CMGS"):
					send = i
				}
			}
			if start < 0 || end < 0 || send < end {
				t.Fatalf("session opened at command %d, ended at %d, first AT+CMGS at %d: an SMS went out during the session\n%s",
					start, end, send, strings.Join(lines[max(start, 0):], "\n"))
			}
			if n := len(m.Record().Sent()); n != 1 {
				t.Fatalf("the modem sent %d SMS, want 1", n)
			}
		})
	}
}
