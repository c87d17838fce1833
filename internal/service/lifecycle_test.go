package service

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

func (h *harness) modemStatus(port string) ModemStatus {
	var out struct{ Modems []ModemStatus }
	h.do("GET", "/v1/modems", nil, &out)
	for _, m := range out.Modems {
		if m.Port == port {
			return m
		}
	}
	h.t.Fatalf("no modem on %s", port)
	return ModemStatus{}
}

func TestHungModemIsHealedWhileTrafficMovesToOthers(t *testing.T) {
	h := startHarnessWith(t, func(c *config.Config) {
		c.Health.IdleCheckAfter = 200 * time.Millisecond
	}, modemsim.Generic, modemsim.Generic)
	h.waitReady(2)
	hung := h.modems[0]
	healthy := h.modems[1]
	hung.Faults().Hang(8 * time.Second)
	eventually(t, "hang noticed", func() bool {
		st := h.modemStatus(hung.Path()).State
		return st != StateReady
	})
	h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
	var acc struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "пока модем висит"}, &acc)
	var m api.Message
	eventually(t, "sent through the healthy modem", func() bool {
		h.do("GET", "/v1/messages/"+acc.ID, nil, &m)
		return m.State == store.Sent
	})
	if len(healthy.Record().Sent()) != 1 {
		t.Fatalf("healthy modem sent %d", len(healthy.Record().Sent()))
	}
	eventually(t, "hung modem back to ready", func() bool {
		return h.modemStatus(hung.Path()).State == StateReady
	})
	st := h.modemStatus(hung.Path())
	if st.Resets[api.StepReinit] == 0 && st.Resets[api.StepReopen] == 0 {
		t.Fatalf("recovered without any escalation step: %+v", st.Resets)
	}
}

func TestDeniedRegistrationIsReportedWithoutResets(t *testing.T) {
	h := startHarnessWith(t, func(c *config.Config) {
		c.Health.IdleCheckAfter = 100 * time.Millisecond
	}, modemsim.Generic)
	h.waitReady(1)
	m := h.modems[0]
	m.Radio().SetRegistration(3)
	eventually(t, "reg_denied", func() bool { return h.modemStatus(m.Path()).State == StateRegDenied })
	id := h.modemStatus(m.Path()).ID
	// Many re-checks later: still denied, never reset, never reopened.
	eventually(t, "several re-checks", func() bool {
		return len(h.eventTypes("modem", id)) > 0 && time.Since(h.modemStatus(m.Path()).Since) > time.Second
	})
	st := h.modemStatus(m.Path())
	if st.State != StateRegDenied || len(st.Resets) != 0 || st.Reconnects != 0 {
		t.Fatalf("denied modem: state %s resets %v reconnects %d", st.State, st.Resets, st.Reconnects)
	}
	var acc struct{ ID string }
	h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
	h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "x"}, &acc)
	m.Radio().SetRegistration(1)
	eventually(t, "back to ready", func() bool { return h.modemStatus(m.Path()).State == StateReady })
	var msg api.Message
	eventually(t, "queued message sent once registered", func() bool {
		h.do("GET", "/v1/messages/"+acc.ID, nil, &msg)
		if msg.State != store.Queued && msg.State != store.Sending && msg.State != store.Sent {
			t.Fatalf("message %s: %+v", msg.State, msg.LastError)
		}
		return msg.State == store.Sent
	})
}

// atCommand talks to a simulated modem directly, as another program would.
func atCommand(t *testing.T, path, cmd string) string {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte(cmd + "\r"))
	var got []byte
	buf := make([]byte, 256)
	for !strings.Contains(string(got), "OK\r\n") && !strings.Contains(string(got), "ERROR") {
		n, err := f.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	return string(got)
}

func TestConfiguredPINIsTriedOnlyWithAllAttemptsLeft(t *testing.T) {
	cases := []struct {
		name       string
		wrongFirst bool // someone else entered a wrong PIN before the daemon started
		wantState  ModemState
	}{
		{"three attempts left", false, StateReady},
		{"an attempt already used", true, StateSIMLocked},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := startHarnessPrepared(t, modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond}, func(c *config.Config, n *modemsim.Network, ms []*modemsim.Modem) {
				c.Modems[0].PIN = "4321"
				c.Health.IdleCheckAfter = 100 * time.Millisecond
				ms[0].SIM().SetPIN("4321")
				if tc.wrongFirst {
					if out := atCommand(t, ms[0].Path(), `AT+CPIN="0000"`); !strings.Contains(out, "ERROR") {
						t.Fatalf("wrong PIN accepted: %q", out)
					}
				}
			}, modemsim.Quectel)
			m := h.modems[0]
			eventually(t, string(tc.wantState), func() bool { return h.modemStatus(m.Path()).State == tc.wantState })
			if tc.wrongFirst {
				// The daemon must not have spent another attempt. Ask the
				// modem once the daemon has let go of the port.
				h.stopDaemon()
				if out := atCommand(t, m.Path(), `AT+CPINR="SIM PIN"`); !strings.Contains(out, "+CPINR: SIM PIN,2,3") {
					t.Fatalf("attempts after the daemon looked: %q", out)
				}
			}
		})
	}
}

// A modem that reports other indication values than it took must not look
// like one that reset at every health check; one that really reset must.
func TestHealthCheckTellsASilentResetFromOddReporting(t *testing.T) {
	h := startHarnessPrepared(t, modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond},
		func(c *config.Config, _ *modemsim.Network, modems []*modemsim.Modem) {
			c.Health.IdleCheckAfter = 50 * time.Millisecond
			modems[0].Faults().ShowCNMI("+CNMI: 1,1,0,2,0")
		}, modemsim.Generic)
	h.waitReady(1)
	m := h.modems[0]
	id := h.d.Modems()[0].ID
	eventually(t, "five health checks", func() bool { return m.Record().Commands("AT+CNMI?") >= 6 })
	if n := m.Record().Commands("AT+CNMI=2"); n != 1 {
		t.Fatalf("indications set %d times; the modem never lost them", n)
	}
	if types := h.eventTypes("modem", id); fmt.Sprint(types) != "[modem.up]" {
		t.Fatalf("modem events %v", types)
	}

	// The same modem, reset without a word, now reports its defaults.
	m.Faults().ShowCNMI("+CNMI: 0,0,0,0,0")
	eventually(t, "set up again", func() bool { return m.Record().Commands("AT+CNMI=2") == 2 })
	eventually(t, "down and up again in the event log", func() bool {
		return fmt.Sprint(h.eventTypes("modem", id)) == "[modem.up modem.down modem.up]"
	})
	checks := m.Record().Commands("AT+CNMI?")
	eventually(t, "three more health checks", func() bool { return m.Record().Commands("AT+CNMI?") >= checks+3 })
	if n := m.Record().Commands("AT+CNMI=2"); n != 2 {
		t.Fatalf("indications set %d times; want once more after the reset", n)
	}

	// A modem that cannot say is no reason to start over, and its
	// registration is still checked.
	m.Faults().FailCommand("AT+CNMI?", 1000, "ERROR")
	regChecks := m.Record().Commands("AT+CREG?")
	checks = m.Record().Commands("AT+CNMI?")
	eventually(t, "three health checks without an answer", func() bool {
		return m.Record().Commands("AT+CNMI?") >= checks+3 && m.Record().Commands("AT+CREG?") >= regChecks+3
	})
	if n := m.Record().Commands("AT+CNMI=2"); n != 2 {
		t.Fatalf("indications set %d times after checks the modem could not answer", n)
	}
}

// A modem that stops answering for good walks the whole escalation to the
// alert step: counted once, from a series that was there at 0 (so
// increase() sees it), and announced once; later tries are reopens.
func TestModemThatNeverRecoversNeedsAPersonOnce(t *testing.T) {
	h := startHarnessWith(t, func(c *config.Config) {
		c.Health.IdleCheckAfter = 200 * time.Millisecond
	}, modemsim.Generic)
	h.waitReady(1)
	m := h.modems[0]
	id := h.modemStatus(m.Path()).ID
	alertSteps := func() string {
		t.Helper()
		s, ok := find(parseExposition(t, h.scrape()), "gsmbridge_modem_resets_total", map[string]string{"modem": id, "step": api.StepAlert})
		if !ok {
			t.Fatalf("no gsmbridge_modem_resets_total for modem %s, step alert", id)
		}
		return s.value
	}
	if got := alertSteps(); got != "0" {
		t.Fatalf("alert steps of a healthy modem: %s, want 0", got)
	}
	m.Faults().Hang(time.Hour)
	// Each try costs an AT timeout, and the alert waits for the back-off
	// to reach its longest.
	eventuallyWithin(t, time.Minute, "the alert step", func() bool { return h.modemStatus(m.Path()).Resets[api.StepAlert] > 0 })
	reopens := h.modemStatus(m.Path()).Resets[api.StepReopen]
	eventuallyWithin(t, time.Minute, "another reopen", func() bool { return h.modemStatus(m.Path()).Resets[api.StepReopen] > reopens })
	if got := alertSteps(); got != "1" {
		t.Errorf("alert steps after another failed reopen: %s, want 1", got)
	}
	alerts := 0
	for _, ev := range h.eventTypes("modem", id) {
		if ev == "modem.alert" {
			alerts++
		}
	}
	if alerts != 1 {
		t.Errorf("%d modem.alert events, want 1", alerts)
	}
}
