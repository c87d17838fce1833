package modemsim

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// submitPDUs encodes text to number as PDU-mode SMS-SUBMITs: hex (with an
// empty SMSC) and the TPDU length AT+CMGS wants.
func submitPDUs(t *testing.T, to, text string, srr bool) (hexes []string, lengths []int) {
	t.Helper()
	tpdus, err := sms.Encode([]byte(text), sms.To(to))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tpdus {
		if srr {
			p.FirstOctet |= tpdu.FoSRR
		}
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		hexes = append(hexes, "00"+strings.ToUpper(hex.EncodeToString(b)))
		lengths = append(lengths, len(b))
	}
	return hexes, lengths
}

// sendPDU types AT+CMGS and the PDU and returns the answer.
func (c *client) sendPDU(pduHex string, length int) string {
	c.t.Helper()
	c.send(fmt.Sprintf("AT+CMGS=%d\r", length))
	c.expect("\r\n> ")
	c.send(pduHex + "\x1a")
	return c.readUntil(finalResult, 5*time.Second)
}

func (c *client) sendText(to, text string, srr bool) []int {
	c.t.Helper()
	hexes, lengths := submitPDUs(c.t, to, text, srr)
	var mrs []int
	for i := range hexes {
		out := c.sendPDU(hexes[i], lengths[i])
		sm := regexp.MustCompile(`\+CMGS: (\d+)\r\n\r\nOK\r\n$`).FindStringSubmatch(out)
		if sm == nil {
			c.t.Fatalf("part %d: got %q", i+1, out)
		}
		mr, _ := strconv.Atoi(sm[1])
		mrs = append(mrs, mr)
	}
	return mrs
}

// decodePDU reads a PDU line as shown by +CMGR/+CMGL/+CMT.
func decodePDU(t *testing.T, line string) *tpdu.TPDU {
	t.Helper()
	p, err := pdumode.UnmarshalHexString(line)
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	d, err := sms.Unmarshal(p.TPDU)
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return d
}

func textOf(t *testing.T, pdus ...*tpdu.TPDU) string {
	t.Helper()
	b, err := sms.Decode(pdus)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitFor polls cond in virtual time; the network works asynchronously.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-time.After(5 * time.Millisecond)
	}
}

func TestSendToPhone(t *testing.T) {
	long := strings.Repeat("Оплата получена, спасибо! ", 12) // 312 Cyrillic characters: 5 UCS2 parts
	tests := []struct {
		name, text string
		parts      int
	}{
		{"single GSM 7-bit", "Payment 1500 RUB received. Reply YES to confirm", 1},
		{"long UCS2", long, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNetwork(t, NetworkOptions{ReverseParts: true})
			m := addModem(t, n, ModemConfig{})
			n.Phones().Add("+79991234567", PhoneRule{Reply: "Да", After: 2 * time.Second})
			c := ready(t, m)
			c.mustOK("AT+CNMI=2,1,0,0,0")
			c.sendText("+79991234567", tt.text, false)
			sent := m.Record().Sent()
			if len(sent) != tt.parts {
				t.Fatalf("Sent() has %d PDUs, want %d", len(sent), tt.parts)
			}
			var joined string
			for i, s := range sent {
				joined += s.Text
				if s.To != "+79991234567" || s.Part != i+1 || s.Parts != tt.parts || s.MR != i {
					t.Errorf("part %d: %+v", i+1, s)
				}
			}
			if joined != tt.text {
				t.Errorf("parts join to %q", joined)
			}
			waitFor(t, "the phone's inbox", func() bool { return len(n.Phones().Inbox("89991234567")) == 1 })
			if got := n.Phones().Inbox("+79991234567")[0]; got.Text != tt.text || got.From != m.Config().MSISDN || got.Parts != tt.parts {
				t.Errorf("inbox: %+v", got)
			}
			c.expect(`+CMTI: "SM",1`)
			got := c.mustOK("AT+CMGR=1")
			if !strings.HasPrefix(got[0], "+CMGR: 0,,") {
				t.Fatalf("got %q", got)
			}
			reply := decodePDU(t, got[1])
			if txt := textOf(t, reply); txt != "Да" || reply.OA.Number() != "+79991234567" {
				t.Errorf("reply %q from %s", txt, reply.OA.Number())
			}
			if zone := reply.SCTS.Format("-07:00"); zone != "+03:00" {
				t.Errorf("SCTS zone %s, want Moscow", zone)
			}
			if out := n.Phones().Outbox("89991234567"); len(out) != 1 || out[0].Text != "Да" || out[0].From != "+79991234567" || out[0].To != m.Config().MSISDN || out[0].Parts != 1 {
				t.Errorf("outbox: %+v", out)
			}
			if got := c.mustOK("AT+CMGR=1"); !strings.HasPrefix(got[0], "+CMGR: 1,,") {
				t.Errorf("read message stays unread: %q", got)
			}
		})
	}
}

func TestSubmitRejected(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{})
	c := ready(t, m)
	hexes, lengths := submitPDUs(t, "+79991234567", "hello", false)
	tests := []struct {
		name   string
		pdu    string
		length int
		want   string
	}{
		{"length counts the SMSC", hexes[0], lengths[0] + 1, "\r\n+CMS ERROR: 304\r\n"},
		{"length too short", hexes[0], lengths[0] - 1, "\r\n+CMS ERROR: 304\r\n"},
		{"not hex", "00ZZ" + hexes[0][4:], lengths[0], "\r\n+CMS ERROR: 304\r\n"},
		{"truncated", hexes[0][:len(hexes[0])-4], lengths[0] - 2, "\r\n+CMS ERROR: 304\r\n"},
		{"a DELIVER is not a SUBMIT", "00" + "040B919799214365F700005220100390002105E8329BFD06", 24, "\r\n+CMS ERROR: 304\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			if got := c.sendPDU(tt.pdu, tt.length); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	c.t = t
	c.send("AT+CMGS=10\r")
	c.expect("> ")
	c.send("0011\x1b")
	c.expect("\r\nOK\r\n")
	if len(m.Record().Sent()) != 0 {
		t.Errorf("rejected PDUs counted as sent: %+v", m.Record().Sent())
	}
	m.Radio().SetRegistration(0)
	if got := c.sendPDU(hexes[0], lengths[0]); got != "\r\n+CMS ERROR: 331\r\n" {
		t.Errorf("unregistered: got %q", got)
	}
}

func TestModemToModemStorage(t *testing.T) {
	tests := []struct {
		dialect Dialect
		first   int
		empty   string // AT+CMGR of an empty slot
	}{
		{Generic, 1, "\r\n+CMS ERROR: 321\r\n"},
		{Huawei, 0, "\r\nOK\r\n"},
	}
	for _, tt := range tests {
		t.Run(string(tt.dialect), func(t *testing.T) {
			n := newTestNetwork(t, NetworkOptions{ReverseParts: true})
			a := addModem(t, n, ModemConfig{})
			b := addModem(t, n, ModemConfig{Dialect: tt.dialect, SIMCapacity: 5, NoisePeriod: -1})
			ca, cb := ready(t, a), ready(t, b)
			cb.mustOK("AT+CNMI=2,1,0,0,0")
			text := strings.Repeat("Long message in GSM 7-bit. ", 8)
			ca.sendText(b.Config().MSISDN, text, false)
			cb.expect(fmt.Sprintf(`+CMTI: "SM",%d`, tt.first))
			cb.expect(fmt.Sprintf(`+CMTI: "SM",%d`, tt.first+1))
			if got := cb.mustOK("AT+CPMS?"); !slices.Equal(got, []string{`+CPMS: "SM",2,5,"SM",2,5,"SM",2,5`}) {
				t.Fatalf("got %q", got)
			}
			list := cb.mustOK("AT+CMGL=4")
			if len(list) != 4 {
				t.Fatalf("CMGL=4: %q", list)
			}
			first := decodePDU(t, list[1])
			second := decodePDU(t, list[3])
			if _, seq, _, _ := first.ConcatInfo(); seq != 2 {
				t.Errorf("parts should arrive last first, got seq %d first", seq)
			}
			if got := textOf(t, second, first); got != text {
				t.Errorf("reassembled %q", got)
			}
			if first.OA.Number() != a.Config().MSISDN {
				t.Errorf("OA %s", first.OA.Number())
			}
			if got := cb.mustOK("AT+CMGL=0"); len(got) != 0 {
				t.Errorf("listing marks read, still unread: %q", got)
			}
			cb.mustOK(fmt.Sprintf("AT+CMGD=%d", tt.first))
			if got := cb.cmd(fmt.Sprintf("AT+CMGR=%d", tt.first)); got != tt.empty {
				t.Errorf("empty slot: got %q, want %q", got, tt.empty)
			}
			cb.mustOK("AT+CMGD=0,4")
			if got := cb.mustOK("AT+CPMS?"); !slices.Equal(got, []string{`+CPMS: "SM",0,5,"SM",0,5,"SM",0,5`}) {
				t.Fatalf("got %q", got)
			}
		})
	}
}

func TestIndicationsOff(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{Dialect: SIMCom})
	c := ready(t, m)
	c.mustOK("AT+CNMI=0,0,0,0,0")
	if err := n.Phones().Send("+79990000001", m.Config().MSISDN, "silent"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "silent storage", func() bool { return len(c.mustOK("AT+CMGL=4")) == 2 })
	c.quiet(50 * time.Millisecond)
}

func TestDirectDeliveryNeedsAck(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{Dialect: SIMCom, AckWindow: 5 * time.Second})
	c := ready(t, m)
	if got := c.mustOK("AT+CSMS=1"); !slices.Equal(got, []string{"+CSMS: 1,1,1"}) {
		t.Fatalf("got %q", got)
	}
	c.mustOK("AT+CNMI=2,2,0,0,0")
	if got := c.cmd("AT+CNMA"); got != "\r\n+CMS ERROR: 340\r\n" {
		t.Fatalf("unexpected ack: got %q", got)
	}
	if err := n.Phones().Send("+79990000001", m.Config().MSISDN, "first"); err != nil {
		t.Fatal(err)
	}
	c.expect("\r\n+CMT: \"\",")
	line := c.expect("\r\n")
	pdu := strings.TrimSpace(c.expect("\r\n"))
	if got := textOf(t, decodePDU(t, pdu)); got != "first" {
		t.Fatalf("+CMT%s carried %q", line, got)
	}
	c.mustOK("AT+CNMA")
	if err := n.Phones().Send("+79990000001", m.Config().MSISDN, "second"); err != nil {
		t.Fatal(err)
	}
	c.expect("\r\n+CMT: ")
	// No AT+CNMA: the modem silently turns indications off and the SMSC
	// delivers again later, into storage.
	waitFor(t, "indications off", func() bool {
		return slices.Equal(c.mustOK("AT+CNMI?"), []string{"+CNMI: 2,0,0,0,0"})
	})
	waitFor(t, "redelivery into storage", func() bool { return len(c.mustOK("AT+CMGL=4")) == 2 })
}

func TestStatusReports(t *testing.T) {
	tests := []struct {
		name    string
		dialect Dialect
		cnmi    string
		to      string
		status  byte
	}{
		{"+CDS to a known phone", Generic, "AT+CNMI=2,1,0,1,0", "+79991234567", 0x00},
		{"+CDSI for an unknown number", Huawei, "AT+CNMI=2,1,0,2,0", "+79990000000", 0x41},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNetwork(t, NetworkOptions{})
			n.Phones().Add("+79991234567", PhoneRule{Never: true})
			m := addModem(t, n, ModemConfig{Dialect: tt.dialect, NoisePeriod: -1})
			c := ready(t, m)
			c.mustOK(tt.cnmi)
			mr := c.sendText(tt.to, "with report", true)[0]
			if !m.Record().Sent()[0].SRR {
				t.Error("SRR not recorded")
			}
			var pdu string
			if strings.HasSuffix(tt.cnmi, "1,0") {
				c.expect("\r\n+CDS: ")
				c.expect("\r\n")
				pdu = strings.TrimSpace(c.expect("\r\n"))
			} else {
				c.expect(`+CDSI: "SM",0`)
				pdu = c.mustOK("AT+CMGR=0")[1]
			}
			r := decodePDU(t, pdu)
			if r.SmsType() != tpdu.SmsStatusReport || int(r.MR) != mr || r.ST != tt.status || r.RA.Number() != tt.to {
				t.Errorf("report %v mr %d st %#x ra %s; want mr %d st %#x", r.SmsType(), r.MR, r.ST, r.RA.Number(), mr, tt.status)
			}
			// The report comes after delivery: a customer who never answers
			// has read it and sent nothing.
			if out := n.Phones().Outbox(tt.to); len(out) != 0 {
				t.Errorf("a phone that never answers sent %+v", out)
			}
		})
	}
}

func TestQuectelRefusesDS1(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{Dialect: Quectel})
	c := ready(t, m)
	if got := c.mustOK("AT+CNMI=?"); !slices.Equal(got, []string{"+CNMI: (0-2),(0-3),(0,2),(0,2),(0,1)"}) {
		t.Errorf("got %q", got)
	}
	if got := c.cmd("AT+CNMI=2,1,0,1,0"); got != "\r\n+CMS ERROR: 303\r\n" {
		t.Errorf("got %q", got)
	}
}

func TestStorageFull(t *testing.T) {
	tests := []struct {
		dialect Dialect
		urc     string
	}{
		{Generic, ""},
		{Huawei, "\r\n^SMMEMFULL: \"SM\"\r\n"},
	}
	for _, tt := range tests {
		t.Run(string(tt.dialect), func(t *testing.T) {
			n := newTestNetwork(t, NetworkOptions{RetryInterval: time.Hour})
			m := addModem(t, n, ModemConfig{Dialect: tt.dialect, SIMCapacity: 3, NoisePeriod: -1})
			c := ready(t, m)
			c.mustOK("AT+CNMI=2,1,0,0,0")
			m.Faults().FillStorage()
			if err := n.Phones().Send("+79990000001", m.Config().MSISDN, "waiting"); err != nil {
				t.Fatal(err)
			}
			if tt.urc != "" {
				c.expect(tt.urc)
			} else {
				c.quiet(50 * time.Millisecond)
			}
			first := dialects[tt.dialect].firstIndex
			// The freed slot takes the waiting message at once: its
			// indication may come before the OK of the delete, or after.
			cmti := fmt.Sprintf("+CMTI: \"SM\",%d", first+1)
			if out := c.cmd(fmt.Sprintf("AT+CMGD=%d", first+1)); !strings.Contains(out, "OK\r\n") {
				t.Fatalf("AT+CMGD: %q", out)
			} else if !strings.Contains(out, cmti) {
				c.expect(cmti)
			}
			got := c.mustOK(fmt.Sprintf("AT+CMGR=%d", first+1))
			if txt := textOf(t, decodePDU(t, got[1])); txt != "waiting" {
				t.Errorf("got %q", txt)
			}
		})
	}
}
