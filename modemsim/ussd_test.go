package modemsim

import (
	"encoding/hex"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/warthog618/sms/encoding/gsm7"
	"github.com/warthog618/sms/encoding/ucs2"
)

var cusdURC = regexp.MustCompile(`\r\n\+CUSD: (\d)(?:,"([^"]*)",(\d+))?\r\n`)

// ussd sends a request and returns the decoded +CUSD that follows the OK.
func (c *client) ussd(request string) (mode int, text string, dcs int) {
	c.t.Helper()
	c.mustOK(request)
	sm := cusdURC.FindStringSubmatch(c.readUntil(cusdURC, 5*time.Second))
	mode, _ = strconv.Atoi(sm[1])
	dcs, _ = strconv.Atoi(sm[3])
	return mode, sm[2], dcs
}

func decodeUCS2Hex(t *testing.T, s string) string {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ucs2.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(r)
}

func decodePackedHex(t *testing.T, s string) string {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	txt, err := gsm7.Decode(gsm7.Unpack7BitUSSD(b, 0))
	if err != nil {
		t.Fatal(err)
	}
	return string(txt)
}

func TestUSSDBalance(t *testing.T) {
	tests := []struct {
		name     string
		dialect  Dialect
		plmn     string
		setup    string // charset command
		request  string
		wantDCS  int
		decode   string // "text", "ucs2", "packed"
		wantText string
	}{
		{"generic Tele2 Latin", Generic, "25020", `AT+CSCS="GSM"`, `AT+CUSD=1,"*105#",15`, 15, "text",
			"Balance -12.30 r. Popolnite schet: *122#"},
		{"generic MTS Cyrillic as UCS2", Generic, "25001", `AT+CSCS="GSM"`, `AT+CUSD=1,"*100#",15`, 72, "ucs2",
			"Баланс: 151,25 руб. Подключите МТС Premium: *111*1010#"},
		{"quectel UCS2 charset", Quectel, "25099", `AT+CSCS="UCS2"`, `AT+CUSD=1,"002A0031003000320023",15`, 72, "ucs2",
			"Vash balans 92,40 r. Dlya vas - Internet 5GB: *115#"},
		{"simcom MegaFon", SIMCom, "25002", `AT+CSCS="IRA"`, `AT+CUSD=1,"*100#",15`, 72, "ucs2",
			"Баланс 1 234,56р. Интернет 5 ГБ за 9р: *500#"},
		{"huawei packed MTS", Huawei, "25001", `AT+CSCS="IRA"`, `AT+CUSD=1,"AA180C3602",15`, 72, "ucs2",
			"Баланс: 151,25 руб. Подключите МТС Premium: *111*1010#"},
		{"huawei packed Beeline Latin", Huawei, "25099", `AT+CSCS="IRA"`, `AT+CUSD=1,"AA184C3602",15`, 15, "packed",
			"Vash balans 92,40 r. Dlya vas - Internet 5GB: *115#"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNetwork(t, NetworkOptions{})
			m := addModem(t, n, ModemConfig{Dialect: tt.dialect, PLMN: tt.plmn, NoisePeriod: -1})
			c := ready(t, m)
			c.mustOK(tt.setup)
			mode, text, dcs := c.ussd(tt.request)
			switch tt.decode {
			case "ucs2":
				text = decodeUCS2Hex(t, text)
			case "packed":
				text = decodePackedHex(t, text)
			}
			if mode != 0 || dcs != tt.wantDCS || text != tt.wantText {
				t.Errorf("got +CUSD: %d,%q,%d; want 0,%q,%d", mode, text, dcs, tt.wantText, tt.wantDCS)
			}
		})
	}
}

func TestUSSDMenuAndCodes(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{PLMN: "25020"})
	c := ready(t, m)
	m.USSD().SetBalance("0.00")
	steps := []struct {
		request  string
		mode     int
		wantText string
	}{
		{`AT+CUSD=1,"*111#",15`, 1, "1. Balance\n2. Tariff"},
		{`AT+CUSD=1,"1",15`, 0, "Balance 0.00 r. Popolnite schet: *122#"},
		{`AT+CUSD=1,"*201#",15`, 0, "Your number " + m.Config().MSISDN},
		{`AT+CUSD=1,"*999#",15`, 4, ""},
	}
	for _, s := range steps {
		mode, text, _ := c.ussd(s.request)
		if mode != s.mode || text != s.wantText {
			t.Errorf("%s: got %d,%q; want %d,%q", s.request, mode, text, s.mode, s.wantText)
		}
	}
	c.mustOK(`AT+CUSD=1,"*111#",15`)
	c.readUntil(cusdURC, 5*time.Second)
	c.mustOK("AT+CUSD=2")
	if mode, _, _ := c.ussd(`AT+CUSD=1,"1",15`); mode != 4 {
		t.Errorf("after AT+CUSD=2 the menu is gone, got mode %d", mode)
	}
}

func TestUSSDFaults(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{PLMN: "25020"})
	c := ready(t, m)
	m.Faults().FailUSSD(USSDErrorAfterOK, USSDNetworkTimeout, USSDTerminatedFirst, USSDSilent)
	c.mustOK(`AT+CUSD=1,"*105#",15`)
	c.expect("\r\n+CME ERROR: 258\r\n")
	if mode, _, _ := c.ussd(`AT+CUSD=1,"*105#",15`); mode != 5 {
		t.Errorf("got mode %d, want 5", mode)
	}
	if mode, _, _ := c.ussd(`AT+CUSD=1,"*105#",15`); mode != 2 {
		t.Errorf("got mode %d, want 2 first", mode)
	}
	if sm := cusdURC.FindStringSubmatch(c.readUntil(cusdURC, 5*time.Second)); sm[1] != "0" || sm[2] == "" {
		t.Errorf("the real answer follows the +CUSD: 2, got %q", sm[0])
	}
	c.mustOK(`AT+CUSD=1,"*105#",15`)
	c.quiet(50 * time.Millisecond)
	if mode, _, _ := c.ussd(`AT+CUSD=1,"*105#",15`); mode != 0 {
		t.Errorf("faults are used up, got mode %d", mode)
	}
}
