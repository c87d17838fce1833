package modemsim

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEchoAndFraming(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{})
	c := dial(t, m.Path())
	if got := c.cmd("AT"); got != "AT\r\r\nOK\r\n" {
		t.Fatalf("echo on at power-up: got %q", got)
	}
	if got := c.cmd("ATE0"); got != "ATE0\r\r\nOK\r\n" {
		t.Fatalf("ATE0 is echoed itself: got %q", got)
	}
	if got := c.cmd("AT+CSQ"); got != "\r\n+CSQ: 17,99\r\n\r\nOK\r\n" {
		t.Fatalf("got %q", got)
	}
	if got := c.cmd("ATZ"); got != "\r\nOK\r\n" {
		t.Fatalf("got %q", got)
	}
	if got := c.cmd("AT"); got != "AT\r\r\nOK\r\n" {
		t.Fatalf("ATZ turns echo back on: got %q", got)
	}
}

func TestLineEditing(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{})
	c := ready(t, m)
	tests := []struct {
		name, typed, want string
	}{
		{"lower case prefix", "at+cgmi\r", "\r\nGSMBRIDGE\r\n\r\nOK\r\n"},
		{"escape aborts the line", "AT+CGM\x1b\rAT+CGMM\r", "\r\nSIM-MODEM\r\n\r\nOK\r\n"},
		{"backspace", "AT+CGMX\x08I\r", "\r\nGSMBRIDGE\r\n\r\nOK\r\n"},
		{"unknown command", "AT+FOO\r", "\r\nERROR\r\n"},
		{"noise without AT is ignored", "hello\rAT\r", "\r\nOK\r\n"},
		{"concatenated", "AT+CMGF=0;+CSCS=\"GSM\";+CSCS?\r", "\r\n+CSCS: \"GSM\"\r\n\r\nOK\r\n"},
		{"basic and extended", "ATE0V1+CGMM\r", "\r\nSIM-MODEM\r\n\r\nOK\r\n"},
		{"stops at the first error", "AT+CGMI;+FOO;+CGMM\r", "\r\nGSMBRIDGE\r\n\r\nERROR\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			c.send(tt.typed)
			if got := c.readUntil(finalResult, 5e9); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCharacterAtATime(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{})
	c := dial(t, m.Path())
	for _, b := range []byte("AT+CGSN\r") {
		c.send(string(b))
	}
	imei := m.Config().IMEI
	if got := c.readUntil(finalResult, 5e9); got != "AT+CGSN\r\r\n"+imei+"\r\n\r\nOK\r\n" {
		t.Fatalf("got %q", got)
	}
}

func TestIdentityPerDialect(t *testing.T) {
	tests := []struct {
		dialect             Dialect
		maker, model, rev   string
		iccidCmd, iccidWant string // %s = ICCID, %w = nibble-swapped
	}{
		{Generic, "GSMBRIDGE", "SIM-MODEM", "SIM-MODEM_1.0", "AT+CRSM=176,12258,0,0,10", `+CRSM: 144,0,"%w"`},
		{Huawei, "huawei", "E173", "11.126.85.00.209", "AT^ICCID?", "^ICCID: %w"},
		{SIMCom, "SIMCOM_Ltd", "SIMCOM_SIM800", "Revision:1418B05SIM800L24", "AT+CCID", "%s"},
		{Quectel, "Quectel", "EC25", "EC25EFAR06A06M4G", "AT+QCCID", "+QCCID: %s"},
	}
	n := newTestNetwork(t, NetworkOptions{})
	for _, tt := range tests {
		t.Run(string(tt.dialect), func(t *testing.T) {
			m := addModem(t, n, ModemConfig{Dialect: tt.dialect, NoisePeriod: -1})
			cfg := m.Config()
			c := ready(t, m)
			checks := map[string]string{
				"AT+CGMI": tt.maker, "AT+CGMM": tt.model, "AT+CGMR": tt.rev,
				"AT+CGSN": cfg.IMEI, "AT+CIMI": cfg.IMSI,
				tt.iccidCmd: strings.NewReplacer("%w", swapNibbles(cfg.ICCID), "%s", cfg.ICCID).Replace(tt.iccidWant),
			}
			for cmd, want := range checks {
				if got := c.mustOK(cmd); !slices.Equal(got, []string{want}) {
					t.Errorf("%s: got %q, want %q", cmd, got, want)
				}
			}
			if !luhnValid(cfg.IMEI) || len(cfg.IMEI) != 15 {
				t.Errorf("IMEI %s is not a valid 15-digit Luhn number", cfg.IMEI)
			}
			if !luhnValid(cfg.ICCID) || !strings.HasPrefix(cfg.ICCID, "8970") {
				t.Errorf("ICCID %s", cfg.ICCID)
			}
			if !strings.HasPrefix(cfg.IMSI, cfg.PLMN) || len(cfg.IMSI) != 15 {
				t.Errorf("IMSI %s does not start with PLMN %s", cfg.IMSI, cfg.PLMN)
			}
		})
	}
}

func luhnValid(s string) bool {
	return len(s) > 1 && luhnDigit(s[:len(s)-1]) == s[len(s)-1]
}

func TestErrorFormats(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{})
	m.SIM().Remove()
	c := dial(t, m.Path())
	c.mustOK("ATE0")
	for _, tt := range []struct{ cmee, want string }{
		{"0", "\r\nERROR\r\n"},
		{"1", "\r\n+CME ERROR: 10\r\n"},
		{"2", "\r\n+CME ERROR: SIM not inserted\r\n"},
	} {
		c.mustOK("AT+CMEE=" + tt.cmee)
		if got := c.cmd("AT+CPIN?"); got != tt.want {
			t.Errorf("CMEE=%s: got %q, want %q", tt.cmee, got, tt.want)
		}
	}
}

func TestRegistrationAndOperator(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{PLMN: "25002"})
	c := ready(t, m)
	if got := c.mustOK("AT+COPS?"); !slices.Equal(got, []string{`+COPS: 0,0,"MegaFon",2`}) {
		t.Fatalf("got %q", got)
	}
	c.mustOK("AT+COPS=3,2")
	if got := c.mustOK("AT+COPS?"); !slices.Equal(got, []string{`+COPS: 0,2,"25002",2`}) {
		t.Fatalf("got %q", got)
	}
	c.mustOK("AT+CREG=2")
	m.Radio().SetRegistration(2)
	c.expect("\r\n+CREG: 2\r\n")
	if got := c.mustOK("AT+COPS?"); !slices.Equal(got, []string{"+COPS: 0"}) {
		t.Fatalf("unregistered: got %q", got)
	}
	m.Radio().SetRegistration(5)
	c.expect("\r\n+CREG: 5,\"00C3\",\"B2F1\"\r\n")
	if got := c.mustOK("AT+CREG?"); !slices.Equal(got, []string{`+CREG: 2,5,"00C3","B2F1"`}) {
		t.Fatalf("got %q", got)
	}
}

func TestPIN(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{})
	m.SIM().SetPIN("4321")
	c := ready(t, m)
	steps := []struct{ cmd, want string }{
		{"AT+CPIN?", "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n"},
		{"AT+CIMI", "\r\n+CME ERROR: 11\r\n"},
		{`AT+CPIN="0000"`, "\r\n+CME ERROR: 16\r\n"},
		{`AT+CPIN="4321"`, "\r\nOK\r\n"},
		{"AT+CPIN?", "\r\n+CPIN: READY\r\n\r\nOK\r\n"},
	}
	for _, s := range steps {
		if got := c.cmd(s.cmd); got != s.want {
			t.Fatalf("%s: got %q, want %q", s.cmd, got, s.want)
		}
	}
	m.SIM().SetPIN("1111")
	for range 2 {
		c.cmd(`AT+CPIN="9999"`)
	}
	if got := c.cmd(`AT+CPIN="9999"`); got != "\r\n+CME ERROR: 12\r\n" {
		t.Fatalf("third wrong PIN: got %q", got)
	}
	if got := c.cmd(`AT+CPIN="12345678","2222"`); got != "\r\nOK\r\n" {
		t.Fatalf("PUK: got %q", got)
	}
}

// A modem that hides the ICCID refuses every way of reading it, while the
// IMSI still answers; showing it again makes the same commands answer.
func TestHiddenICCID(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	for _, d := range []Dialect{Generic, Huawei, SIMCom, Quectel} {
		t.Run(string(d), func(t *testing.T) {
			m := addModem(t, n, ModemConfig{Dialect: d, NoisePeriod: -1, HideICCID: ICCIDRefused})
			c := ready(t, m)
			cmds := []string{"AT+CRSM=176,12258,0,0,10", "AT+CCID", "AT^ICCID?", "AT+QCCID"}
			for _, cmd := range cmds {
				if got := c.cmd(cmd); !strings.HasSuffix(got, "\r\nERROR\r\n") {
					t.Errorf("%s with the ICCID hidden: %q", cmd, got)
				}
			}
			if got := c.mustOK("AT+CIMI"); !slices.Equal(got, []string{m.Config().IMSI}) {
				t.Errorf("AT+CIMI: %q", got)
			}
			m.Faults().HideICCID(ICCIDIgnored)
			c.send("AT+CRSM=176,12258,0,0,10\r")
			c.quiet(50 * time.Millisecond)
			m.Faults().HideICCID(ICCIDShown)
			answered := 0
			for _, cmd := range cmds {
				if got := c.cmd(cmd); strings.HasSuffix(got, "\r\nOK\r\n") {
					answered++
				}
			}
			want := 2 // AT+CRSM and the maker's own command
			if d == Generic {
				want = 1
			}
			if answered != want {
				t.Errorf("%d ICCID commands answered once shown, want %d", answered, want)
			}
			if got := len(m.Record().CommandTimes("AT+CRSM")); got != 3 {
				t.Errorf("%d AT+CRSM logged, want 3", got)
			}
		})
	}
}
