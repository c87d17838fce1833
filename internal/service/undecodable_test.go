package service

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

const customer = "+79161234567"

// undecodableCount reads gsmbridge_modem_undecodable_pdus_total of modem id;
// "" when the series is missing.
func (h *harness) undecodableCount(id string) string {
	s, _ := find(parseExposition(h.t, h.scrape()), "gsmbridge_modem_undecodable_pdus_total", map[string]string{"modem": id})
	return s.value
}

// A Huawei status line cut into the PDU line of the +CMGR answer no longer
// costs the reply the 5-minute sweep: it reaches the inbox from the one read
// its +CMTI caused, whole, and is deleted from the modem. Cut positions
// cover the SMSC part, the TPDU header, the text and the last digit.
func TestReplyWithAStatusLineCutIntoItsPDUArrivesAtOnce(t *testing.T) {
	h := startHarnessNet(t, modemsim.NetworkOptions{DeliveryDelay: time.Millisecond}, nil, modemsim.Huawei)
	h.waitReady(1)
	m := h.modems[0]
	if h.undecodableCount(h.d.Modems()[0].ID) != "0" {
		t.Fatal("the undecodable counter does not start at 0")
	}
	for i, at := range []int{1, 2, 9, 16, 30, 60, -1} {
		text := fmt.Sprintf("Да, подтверждаю %d", i)
		if at < 0 {
			at = 1 << 20 // the simulator cuts before the last digit
		}
		reads := m.Record().Commands("AT+CMGR=")
		m.Faults().CutPDULines(1, at)
		if err := h.net.Phones().Send(customer, m.Config().MSISDN, text); err != nil {
			t.Fatal(err)
		}
		eventually(t, "reply "+text, func() bool {
			got := h.inbox()
			return len(got) == i+1 && got[i].Text == text && got[i].Sender == customer
		})
		eventually(t, "deleted from the modem", func() bool { return m.Record().Stored("SM") == 0 })
		if n := m.Record().Commands("AT+CMGR=") - reads; n != 1 {
			t.Errorf("cut at %d: %d reads, want 1 (the cut line joined, not read again)", at, n)
		}
	}
	if got := h.undecodableCount(h.d.Modems()[0].ID); got != "0" {
		t.Errorf("undecodable counter = %s, want 0", got)
	}
}

// A PDU garbled on its first read (a lost byte) is read again at once and
// taken; nothing is reported.
func TestGarbledReadIsReadAgainAtOnce(t *testing.T) {
	h := startHarnessNet(t, modemsim.NetworkOptions{DeliveryDelay: time.Millisecond}, nil, modemsim.Huawei)
	h.waitReady(1)
	m := h.modems[0]
	m.Faults().GarblePDULines(1)
	if err := h.net.Phones().Send(customer, m.Config().MSISDN, "Да"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reply", func() bool { got := h.inbox(); return len(got) == 1 && got[0].Text == "Да" })
	eventually(t, "deleted from the modem", func() bool { return m.Record().Stored("SM") == 0 })
	if n := m.Record().Commands("AT+CMGR="); n != 2 {
		t.Errorf("%d reads, want 2", n)
	}
	id := h.d.Modems()[0].ID
	if got := h.undecodableCount(id); got != "0" {
		t.Errorf("undecodable counter = %s, want 0", got)
	}
	for _, typ := range h.eventTypes("modem", id) {
		if typ == "modem.sms_undecodable" {
			t.Errorf("event %s for a PDU that read well the second time", typ)
		}
	}
}

// A PDU that reads garbled on both reads is left in storage, raises one
// event and counts once, however many sweeps meet it again; once it reads
// well, the next sweep takes it.
func TestPDUCorruptOnBothReadsIsLeftReportedOnceAndTakenLater(t *testing.T) {
	h := startHarnessNet(t, modemsim.NetworkOptions{DeliveryDelay: time.Millisecond},
		func(c *config.Config) { c.Receive.PollInterval = 100 * time.Millisecond }, modemsim.Huawei)
	h.waitReady(1)
	m := h.modems[0]
	id := h.d.Modems()[0].ID
	m.Faults().GarblePDULines(1 << 20)
	if err := h.net.Phones().Send(customer, m.Config().MSISDN, "Да, оплату подтверждаю"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the event", func() bool { return len(allEvents(h, "&type=modem.sms_undecodable")) == 1 })
	sweeps := m.Record().Commands("AT+CMGL")
	eventually(t, "three more sweeps", func() bool { return m.Record().Commands("AT+CMGL") >= sweeps+3 })

	events := allEvents(h, "&type=modem.sms_undecodable")
	if len(events) != 1 || events[0].Object.Kind != "modem" || events[0].Object.ID != id {
		t.Fatalf("events: %+v", events)
	}
	var left struct {
		Modem  string `json:"modem"`
		Index  int    `json:"index"`
		Chars  int    `json:"pdu_chars"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(events[0].Data, &left); err != nil {
		t.Fatal(err)
	}
	if left.Modem != id || left.Index != 0 || left.Chars == 0 || !strings.Contains(left.Reason, "hex") {
		t.Errorf("payload %+v", left)
	}
	if data := string(events[0].Data); strings.Contains(data, "9761234567") || strings.Contains(data, "0791") {
		t.Errorf("the event shows the PDU or the sender: %s", data)
	}
	if got := h.undecodableCount(id); got != "1" {
		t.Errorf("undecodable counter = %s, want 1", got)
	}
	if m.Record().Stored("SM") != 1 || len(h.inbox()) != 0 {
		t.Fatalf("stored %d, inbox %+v: the PDU must stay in the modem", m.Record().Stored("SM"), h.inbox())
	}

	m.Faults().GarblePDULines(0)
	eventually(t, "taken by a sweep", func() bool {
		got := h.inbox()
		return len(got) == 1 && got[0].Text == "Да, оплату подтверждаю" && m.Record().Stored("SM") == 0
	})
}
