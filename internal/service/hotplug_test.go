package service

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

func TestReplugUnderANewTTYKeepsTheModemsIDAndCounters(t *testing.T) {
	opts := modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond}
	h := startHarnessPrepared(t, opts, func(c *config.Config, n *modemsim.Network, ms []*modemsim.Modem) {
		sys, dev := n.Roots()
		c.Modems = []config.Modem{{Auto: true, SysRoot: sys, DevRoot: dev, ScanInterval: 100 * time.Millisecond, Baud: 115200}}
	}, modemsim.Huawei)
	h.waitReady(1)
	m := h.modems[0]
	var before struct{ Modems []ModemStatus }
	h.do("GET", "/v1/modems", nil, &before)
	first := before.Modems[0]
	if first.Port != m.Path() {
		t.Fatalf("discovered port %s, want %s", first.Port, m.Path())
	}
	h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
	var acc struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "до"}, &acc)
	eventually(t, "sent", func() bool {
		var msg api.Message
		h.do("GET", "/v1/messages/"+acc.ID, nil, &msg)
		return msg.State == store.Sent
	})

	m.Vanish()
	eventually(t, "modem dropped", func() bool {
		var out struct{ Modems []ModemStatus }
		h.do("GET", "/v1/modems", nil, &out)
		return len(out.Modems) == 0
	})
	if err := m.Return("ttyUSB9"); err != nil {
		t.Fatal(err)
	}
	var after struct{ Modems []ModemStatus }
	eventually(t, "modem back", func() bool {
		h.do("GET", "/v1/modems", nil, &after)
		return len(after.Modems) == 1 && after.Modems[0].State == StateReady
	})
	back := after.Modems[0]
	if back.Port == first.Port || back.Port != m.Path() {
		t.Fatalf("came back on %s (was %s, simulator says %s)", back.Port, first.Port, m.Path())
	}
	if back.ID != first.ID || back.Sent != 1 {
		t.Fatalf("after replug: id %s sent %d, want id %s sent 1", back.ID, back.Sent, first.ID)
	}
	if back.Resets[api.StepAlert] != 0 {
		t.Fatalf("unplugging a discovered modem called for a person: resets %v", back.Resets)
	}
	var types []string
	eventually(t, "up, down, up announced", func() bool {
		types = h.eventTypes("modem", first.ID)
		return len(types) >= 3
	})
	if types[0] != "modem.up" || types[1] != "modem.down" || types[2] != "modem.up" {
		t.Fatalf("modem events %v", types)
	}
}

func TestConfiguredPortIsReopenedWhenItReappears(t *testing.T) {
	h := startHarness(t, modemsim.SIMCom)
	h.waitReady(1)
	m := h.modems[0]
	path := m.Path()
	m.Vanish()
	eventually(t, "modem gone", func() bool { return h.modemStatus(path).State == StateGone })
	if err := m.Return(""); err != nil {
		t.Fatal(err)
	}
	if m.Path() != path {
		t.Fatalf("simulator moved the port to %s", m.Path())
	}
	eventually(t, "modem ready again", func() bool { return h.modemStatus(path).State == StateReady })
	if st := h.modemStatus(path); st.Reconnects == 0 {
		t.Fatalf("reconnects %d after a reopen", st.Reconnects)
	}
}

func TestModemWithoutAValidIMEIIsKnownByItsUSBSocket(t *testing.T) {
	h := startHarnessModems(t, modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond}, func(c *config.Config, n *modemsim.Network, ms []*modemsim.Modem) {
		sys, dev := n.Roots()
		c.Modems = []config.Modem{{Auto: true, SysRoot: sys, DevRoot: dev, ScanInterval: 100 * time.Millisecond, Baud: 115200}}
	}, modemsim.ModemConfig{Dialect: modemsim.SIMCom, IMEI: "000000000000000", USBPath: "1-1.4"})
	h.waitReady(1)
	var out struct{ Modems []ModemStatus }
	h.do("GET", "/v1/modems", nil, &out)
	if id := out.Modems[0].ID; id != "usb:1-1.4" {
		t.Fatalf("id %q, want usb:1-1.4 (a clone stick's junk IMEI must not become its id)", id)
	}
	m := h.modems[0]
	m.Vanish()
	eventually(t, "dropped", func() bool {
		h.do("GET", "/v1/modems", nil, &out)
		return len(out.Modems) == 0
	})
	if err := m.Return("ttyUSB7"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "back with the same id", func() bool {
		h.do("GET", "/v1/modems", nil, &out)
		return len(out.Modems) == 1 && out.Modems[0].State == StateReady && out.Modems[0].ID == "usb:1-1.4"
	})
}

// A modem with its own entry (for its PIN or name, by its stable by-id
// path, as the example configuration has it) next to `auto: true` is owned
// by that entry alone: discovery must not start a second owner on the same
// port, which would send AT commands into the first one's dialogue and show
// the modem twice.
func TestDiscoveryLeavesAConfiguredModemToItsEntry(t *testing.T) {
	for _, byLink := range []bool{false, true} {
		t.Run(fmt.Sprintf("by link %v", byLink), func(t *testing.T) {
			var configured string
			h := startHarnessPrepared(t, modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond}, func(c *config.Config, n *modemsim.Network, ms []*modemsim.Modem) {
				sys, dev := n.Roots()
				configured = ms[0].Path()
				if byLink {
					configured = filepath.Join(t.TempDir(), "usb-HUAWEI_Mobile-if02-port0")
					if err := os.Symlink(ms[0].Path(), configured); err != nil {
						t.Fatal(err)
					}
				}
				c.Modems = []config.Modem{{Port: configured, Baud: 115200, Name: "rack1"},
					{Auto: true, SysRoot: sys, DevRoot: dev, ScanInterval: 50 * time.Millisecond, Baud: 115200}}
			}, modemsim.Huawei, modemsim.SIMCom)
			own, found := h.modems[0], h.modems[1]
			var out struct{ Modems []ModemStatus }
			eventually(t, "the configured modem and the discovered one ready", func() bool {
				h.do("GET", "/v1/modems", nil, &out)
				ready := map[string]bool{}
				for _, m := range out.Modems {
					ready[m.Port] = m.State == StateReady
				}
				return ready[configured] && ready[found.Path()]
			})
			// The scan that found the other modem found this one too.
			h.do("GET", "/v1/modems", nil, &out)
			if len(out.Modems) != 2 {
				t.Fatalf("modems %+v, want the configured one and the discovered one", out.Modems)
			}
			for _, cmd := range []string{"AT+CGSN", "AT+CNMI=2"} {
				if n := own.Record().Commands(cmd); n != 1 {
					t.Errorf("the configured modem got %s %d times, want once (one owner)", cmd, n)
				}
			}
		})
	}
}

// A modem that re-enumerates under another tty between two scans is seen
// gone and new in the same scan. Its old owner is retired before the new
// one starts, so the new one finds the IMEI free: the modem keeps its id
// (not a fallback usb: one), its counters, and the messages pinned to it.
func TestReEnumerationWithinOneScanKeepsTheModemsIMEI(t *testing.T) {
	h := startHarnessPrepared(t, modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond}, func(c *config.Config, n *modemsim.Network, ms []*modemsim.Modem) {
		sys, dev := n.Roots()
		c.Modems = []config.Modem{{Auto: true, SysRoot: sys, DevRoot: dev, ScanInterval: 200 * time.Millisecond, Baud: 115200}}
	}, modemsim.Huawei)
	h.waitReady(1)
	m := h.modems[0]
	imei := m.Config().IMEI
	h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
	var acc struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "1", "modem": imei}, &acc)
	h.waitMessage(acc.ID, func(msg api.Message) bool { return msg.State == store.Sent })

	m.Vanish()
	if err := m.Return("ttyUSB9"); err != nil {
		t.Fatal(err)
	}
	var out struct{ Modems []ModemStatus }
	eventually(t, "the modem ready on its new tty", func() bool {
		h.do("GET", "/v1/modems", nil, &out)
		return len(out.Modems) == 1 && out.Modems[0].Port == m.Path() && out.Modems[0].State == StateReady
	})
	if got := out.Modems[0]; got.ID != imei || got.Sent != 1 {
		t.Fatalf("after re-enumerating: id %s sent %d, want id %s (its IMEI) sent 1", got.ID, got.Sent, imei)
	}
	h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "2", "modem": imei}, &acc)
	h.waitMessage(acc.ID, func(msg api.Message) bool { return msg.State == store.Sent })
	if n := len(m.Record().Sent()); n != 2 {
		t.Fatalf("the modem took %d PDUs, want 2", n)
	}
}
