package service

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

var allDialects = []modemsim.Dialect{modemsim.Generic, modemsim.Huawei, modemsim.SIMCom, modemsim.Quectel}

func (h *harness) inbox() []inboxRow {
	var page struct{ Messages []inboxRow }
	h.do("GET", "/v1/inbox", nil, &page)
	return page.Messages
}

type inboxRow struct {
	Sender   string `json:"from"`
	Text     string
	Complete bool
	Parts    int
}

func TestSMSWaitingAtStartUpIsTaken(t *testing.T) {
	for _, d := range allDialects {
		t.Run(string(d), func(t *testing.T) {
			h := startHarnessPrepared(t, modemsim.NetworkOptions{DeliveryDelay: time.Millisecond}, func(c *config.Config, n *modemsim.Network, ms []*modemsim.Modem) {
				if err := n.Phones().Send("+79161234567", ms[0].Config().MSISDN, "пришло, пока никто не слушал"); err != nil {
					t.Fatal(err)
				}
				// Wait until the modem holds it, as a modem does that was
				// powered while gsmbridge was down.
				deadline := time.Now().Add(10 * time.Second)
				for !strings.Contains(atCommand(t, ms[0].Path(), "AT+CPMS?"), `"SM",1,`) {
					if time.Now().After(deadline) {
						t.Fatal("the SMS never reached the modem's storage")
					}
					time.Sleep(10 * time.Millisecond)
				}
			}, d)
			eventually(t, "the waiting SMS in the inbox", func() bool { return len(h.inbox()) == 1 })
			if got := h.inbox()[0]; got.Text != "пришло, пока никто не слушал" || got.Sender != "+79161234567" {
				t.Fatalf("inbox: %+v", got)
			}
			eventually(t, "deleted from the modem", func() bool {
				return h.modemStatus(h.modems[0].Path()).StorageUsed == 0
			})
		})
	}
}

func TestLongReplyWithPartsReversedIsAssembledOnce(t *testing.T) {
	for _, d := range allDialects {
		t.Run(string(d), func(t *testing.T) {
			h := startHarnessNet(t, modemsim.NetworkOptions{DeliveryDelay: time.Millisecond, ReverseParts: true}, nil, d)
			h.waitReady(1)
			text := strings.Repeat("Подтверждаю оплату заказа номер 12345. ", 6)
			h.net.Phones().Send("+79161234567", h.modems[0].Config().MSISDN, text)
			eventually(t, "assembled", func() bool { return len(h.inbox()) == 1 })
			got := h.inbox()[0]
			if got.Text != text || !got.Complete || got.Parts < 3 {
				t.Fatalf("inbox: %+v", got)
			}
		})
	}
}

func TestFullStorageIsEmptiedAndTheNextReplyArrives(t *testing.T) {
	for _, d := range allDialects {
		t.Run(string(d), func(t *testing.T) {
			h := startHarnessNet(t, modemsim.NetworkOptions{DeliveryDelay: time.Millisecond, RetryInterval: 100 * time.Millisecond},
				func(c *config.Config) { c.Receive.PollInterval = 300 * time.Millisecond }, d)
			h.waitReady(1)
			h.modems[0].Faults().FillStorage()
			h.net.Phones().Send("+79161234567", h.modems[0].Config().MSISDN, "ответ после переполнения")
			eventually(t, "the reply", func() bool {
				for _, m := range h.inbox() {
					if m.Text == "ответ после переполнения" {
						return true
					}
				}
				return false
			})
		})
	}
}

func TestMessageTheModemFailedToDeleteIsStoredOnce(t *testing.T) {
	h := startHarnessWith(t, func(c *config.Config) { c.Receive.PollInterval = 100 * time.Millisecond }, modemsim.Generic)
	h.waitReady(1)
	m := h.modems[0]
	m.Faults().FailCommand("AT+CMGD", 3, "ERROR")
	h.net.Phones().Send("+79161234567", m.Config().MSISDN, "один раз")
	eventually(t, "deleted at last", func() bool {
		return len(h.inbox()) == 1 && h.modemStatus(m.Path()).StorageUsed == 0
	})
	// Several sweeps read it again while the modem kept it: still one.
	if n := len(h.inbox()); n != 1 {
		t.Fatalf("inbox has %d copies", n)
	}
}

// forceDirectDelivery gives the daemon no storage it can use and a modem
// that insists on acknowledgements: direct delivery with +CNMA. It runs
// before the daemon opens the port.
func forceDirectDelivery(t *testing.T, m *modemsim.Modem) {
	t.Helper()
	if out := atCommand(t, m.Path(), "AT+CSMS=1"); !strings.Contains(out, "OK") {
		t.Fatalf("AT+CSMS=1: %q", out)
	}
	m.Faults().FailCommand("AT+CPMS", 1000, "ERROR")
	m.Faults().FailCommand("AT+CSMS=0", 1000, "ERROR")
}

func TestMissedAcknowledgementInDirectModeDoesNotStopReceiving(t *testing.T) {
	h := startHarnessModems(t, modemsim.NetworkOptions{DeliveryDelay: time.Millisecond},
		func(c *config.Config, n *modemsim.Network, ms []*modemsim.Modem) {
			c.Health.IdleCheckAfter = 200 * time.Millisecond
			c.Receive.PollInterval = time.Hour
			forceDirectDelivery(t, ms[0])
		}, modemsim.ModemConfig{Dialect: modemsim.Generic, AckWindow: 300 * time.Millisecond})
	h.waitReady(1)
	m := h.modems[0]
	// The first acknowledgement fails, and so does its retry: the modem
	// turns indications off when its window closes.
	m.Faults().FailCommand("AT+CNMA", 2, "ERROR")
	h.net.Phones().Send("+79161234567", m.Config().MSISDN, "первый")
	eventually(t, "first reply", func() bool { return len(h.inbox()) >= 1 })
	for i := 2; i <= 3; i++ {
		text := fmt.Sprintf("ответ %d", i)
		h.net.Phones().Send("+79161234567", m.Config().MSISDN, text)
		eventually(t, text, func() bool {
			for _, r := range h.inbox() {
				if r.Text == text {
					return true
				}
			}
			return false
		})
	}
	if n := len(h.inbox()); n != 3 {
		t.Fatalf("inbox has %d messages, want 3 (the first stored once)", n)
	}
}

// A modem another program left in phase 2+ (AT+CSMS=1) wants every status
// report pushed as +CDS acknowledged, or it switches indications off and
// the next reply is never announced.
func TestStatusReportsOfAModemLeftInPhase2PlusDoNotStopReceiving(t *testing.T) {
	h := startHarnessModems(t, modemsim.NetworkOptions{DeliveryDelay: time.Millisecond, ReportDelay: time.Millisecond},
		func(c *config.Config, n *modemsim.Network, ms []*modemsim.Modem) {
			// Only the receive path may notice: no health check, no poll.
			c.Health.IdleCheckAfter = time.Hour
			c.Receive.PollInterval = time.Hour
			atCommand(t, ms[0].Path(), "AT+CSMS=1")
		}, modemsim.ModemConfig{Dialect: modemsim.SIMCom, AckWindow: time.Millisecond})
	h.waitReady(1)
	m := h.modems[0]
	customer := "+79161234567"
	h.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	var acc struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": customer, "text": "Платёж 5", "report": true}, &acc)
	eventually(t, "delivered", func() bool {
		var msg api.Message
		h.do("GET", "/v1/messages/"+acc.ID, nil, &msg)
		return msg.State == store.Delivered
	})
	h.net.Phones().Send(customer, m.Config().MSISDN, "да")
	eventually(t, "the reply after the report", func() bool { return len(h.inbox()) == 1 })
}

// An acknowledgement that fails once is tried again within the modem's
// window, so indications stay on without waiting for a health check. The
// window is a second: the retry goes at once, and a 50 ms window was
// missed on a loaded 2-core machine (load average 12).
func TestFailedAcknowledgementIsRetriedInTheWindow(t *testing.T) {
	h := startHarnessModems(t, modemsim.NetworkOptions{DeliveryDelay: time.Millisecond},
		func(c *config.Config, n *modemsim.Network, ms []*modemsim.Modem) {
			c.Health.IdleCheckAfter = time.Hour
			c.Receive.PollInterval = time.Hour
			forceDirectDelivery(t, ms[0])
		}, modemsim.ModemConfig{Dialect: modemsim.Generic, AckWindow: time.Second})
	h.waitReady(1)
	m := h.modems[0]
	m.Faults().FailCommand("AT+CNMA", 1, "ERROR")
	h.net.Phones().Send("+79161234567", m.Config().MSISDN, "первый")
	eventually(t, "first reply", func() bool { return len(h.inbox()) == 1 })
	acks := m.Record().Commands("AT+CNMA")
	h.net.Phones().Send("+79161234567", m.Config().MSISDN, "второй")
	eventually(t, "second reply", func() bool { return len(h.inbox()) == 2 })
	if acks != 2 || m.Record().Commands("AT+CNMA") != 3 {
		t.Fatalf("acknowledgements: %d for the first reply, %d in all; want 2 and 3", acks, m.Record().Commands("AT+CNMA"))
	}
}

// Quectel-style modems keep stored status reports in their own memory and
// announce them as +CDSI: "SR",<idx>; read from the message memory, the slot
// is empty or another message, and the report stays there for good.
func TestStatusReportsKeptInTheirOwnMemoryAreRead(t *testing.T) {
	h := startHarnessModems(t, modemsim.NetworkOptions{DeliveryDelay: time.Millisecond, ReportDelay: time.Millisecond},
		func(c *config.Config, n *modemsim.Network, ms []*modemsim.Modem) {
			c.Receive.PollInterval = time.Hour
		}, modemsim.ModemConfig{Dialect: modemsim.Quectel})
	h.waitReady(1)
	m := h.modems[0]
	customer := "+79161234567"
	h.net.Phones().Add(customer, modemsim.PhoneRule{Reply: "да"})
	var acc struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": customer, "text": "Платёж 6", "report": true}, &acc)
	eventually(t, "delivered and the reply in", func() bool {
		var msg api.Message
		h.do("GET", "/v1/messages/"+acc.ID, nil, &msg)
		return msg.State == store.Delivered && len(h.inbox()) == 1
	})
	// Deleted once stored, which comes just after.
	eventually(t, "the report memory emptied", func() bool { return m.Record().Stored("SR") == 0 })
}
