package modemsim

import (
	"testing"
)

// FuzzDecodeSubmit feeds the AT+CMGS PDU check whatever a host might type;
// it must reject, never panic, and accept only SMS-SUBMITs of the stated
// length.
func FuzzDecodeSubmit(f *testing.F) {
	seeds := []struct {
		hex    string
		length int
	}{
		{"0011000B919799214365F70000AA05E8329BFD06", 19},               // "hello", VP relative
		{"0001000B919799214365F7000805041F04400438", 19},               // UCS2 "При"
		{"0051000B919799214365F70008AA0A0500030102010041004200", 25},   // UDH concat part 1/2
		{"07919761989901F031000B919799214365F70000AA05E8329BFD06", 19}, // with SMSC
		{"040B919799214365F700005220100390002105E8329BFD06", 24},       // an SMS-DELIVER
		{"0021000B919799214365F7000004D4F29C0E", 17},                   // SRR set
		{"00", 0},
	}
	for _, s := range seeds {
		f.Add(s.hex, s.length)
	}
	f.Fuzz(func(t *testing.T, hexText string, length int) {
		p, err := decodeSubmit(hexText, length)
		if err != nil {
			return
		}
		if p.SmsType().String() != "SmsSubmit" {
			t.Fatalf("accepted a %v", p.SmsType())
		}
		sentFrom(p, hexText, testClock().Now())
	})
}

// FuzzCommandLine runs arbitrary command lines through a modem's
// interpreter: every line must produce a well-formed final result or be
// ignored, and never panic.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{
		"AT", "ATE0", "AT+CMGS=23", `AT+CUSD=1,"AA180C3602",15`, "AT+CPMS=\"SM\",\"ME\",\"SM\"",
		"AT+CNMI=2,1,0,2,0", "AT+CMGL=4", "AT+CMGR=0", "AT+CMGD=1,4", "ATZ;+CSQ;+CREG?", "AT+COPS=3,2;+COPS?",
		"AT^CURC=0", "AT+CRSM=176,12258,0,0,10", `AT+CPIN="1234"`, "AT+CFUN=1,1", "AT+CSCS=\"UCS2\"",
		`AT+CSCA="002B0037"`, "AT&F&C1", "ATS0=0", "at+cgmi=?", `AT+CUSD=1,"*111#"`,
	} {
		f.Add(s)
	}
	n, err := NewNetwork(NetworkOptions{Clock: testClock()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Close() })
	m, err := n.AddModem(ModemConfig{MECapacity: 5, NoisePeriod: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m.mu.Lock()
		defer m.mu.Unlock()
		r := m.execute(line)
		m.at.pdu = nil
		if r == nil {
			return
		}
		if !r.prompt && r.final == "" {
			t.Fatalf("%q: no final result", line)
		}
	})
}
