package modemsim

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRebootPerDialect(t *testing.T) {
	tests := []struct {
		dialect Dialect
		boot    string
		cnmi    string // after reboot
	}{
		{SIMCom, "\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n", "+CNMI: 2,1,0,0,0"},
		{Quectel, "\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n\r\n+QIND: PB DONE\r\n", "+CNMI: 2,1,0,0,0"},
		{Huawei, "\r\n^BOOT:20952341,0,0,0,77\r\n\r\n^SIMST:1\r\n\r\n^SRVST:2\r\n\r\n^MODE:5,4\r\n", "+CNMI: 0,0,0,0,0"},
	}
	for _, tt := range tests {
		t.Run(string(tt.dialect), func(t *testing.T) {
			n := newTestNetwork(t, NetworkOptions{})
			m := addModem(t, n, ModemConfig{Dialect: tt.dialect, NoisePeriod: -1})
			c := ready(t, m)
			c.mustOK("AT+CNMI=1,2,0,0,0")
			c.mustOK("AT+CSCS=\"UCS2\"")
			if got := c.cmd("AT+CFUN=1,1"); got != "\r\nOK\r\n" {
				t.Fatalf("got %q", got)
			}
			if got := c.expect(tt.boot[len(tt.boot)-12:]); got != tt.boot {
				t.Fatalf("boot lines %q, want %q", got, tt.boot)
			}
			if got := c.cmd("AT+CNMI?"); got != "AT+CNMI?\r\r\n"+tt.cnmi+"\r\n\r\nOK\r\n" {
				t.Errorf("after reboot (echo on again): got %q", got)
			}
			if got := c.mustOK("AT+CSCS?"); strings.Contains(got[0], "UCS2") {
				t.Errorf("charset survived the reboot: %q", got)
			}
		})
	}
}

func TestHuaweiNoise(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{Dialect: Huawei, NoisePeriod: time.Second})
	c := ready(t, m)
	c.expect("\r\n^RSSI:17\r\n")
	c.expect("\r\n^MODE:5,4\r\n")
	c.mustOK("AT^CURC=0")
	c.quiet(30 * time.Millisecond) // three noise periods of virtual time
	if got := c.mustOK("AT^CURC?"); !slices.Equal(got, []string{"^CURC: 0"}) {
		t.Errorf("got %q", got)
	}
}

func TestRadioOff(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{})
	c := ready(t, m)
	c.mustOK("AT+CFUN=0")
	for cmd, want := range map[string]string{
		"AT+CFUN?": "+CFUN: 0", "AT+CREG?": "+CREG: 0,0", "AT+CGATT?": "+CGATT: 0", "AT+CSQ": "+CSQ: 99,99", "AT+COPS?": "+COPS: 0",
	} {
		if got := c.mustOK(cmd); !slices.Equal(got, []string{want}) {
			t.Errorf("%s: got %q, want %q", cmd, got, want)
		}
	}
	c.mustOK("AT+CFUN=1")
	if got := c.mustOK("AT+CREG?"); !slices.Equal(got, []string{"+CREG: 0,1"}) {
		t.Errorf("got %q", got)
	}
}
