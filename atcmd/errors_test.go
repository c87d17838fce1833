package atcmd

import (
	"errors"
	"testing"
)

func TestParseFinalError(t *testing.T) {
	tests := []struct {
		line     string
		wantText string
		cme, cms int // expected code of that family; -2 = not that family
	}{
		{"+CME ERROR: 14", "SIM busy (CME 14)", 14, -2},
		{"+CME ERROR: SIM busy", "SIM busy (CME 14)", 14, -2},
		{"+CME ERROR: sim  NOT inserted", "SIM not inserted (CME 10)", 10, -2},
		{"+CME ERROR:10", "SIM not inserted (CME 10)", 10, -2},
		{"+CME ERROR: no network", "no network service (CME 30)", 30, -2},
		{"+CME ERROR: Something odd", "Something odd (CME)", -1, -2},
		{"+CME ERROR: 999", "CME error 999", 999, -2},
		{"+CMS ERROR: 38", "network out of order (CMS 38)", -2, 38},
		{"+CMS ERROR: 304", "invalid PDU mode parameter (CMS 304)", -2, 304},
		{"+CMS ERROR: 513", "vendor error (CMS 513)", -2, 513},
		{"+CMS ERROR: 140", "TP cause (CMS 140)", -2, 140},
		{"+CMS ERROR: memory full", "memory full (CMS 322)", -2, 322},
		{`+CMS ERROR: "SMSC address unknown"`, "SMSC address unknown (CMS 330)", -2, 330},
	}
	for _, tt := range tests {
		err := parseFinalError(tt.line)
		if err.Error() != tt.wantText {
			t.Errorf("%q: Error() = %q, want %q", tt.line, err.Error(), tt.wantText)
		}
		var cme *CMEError
		var cms *CMSError
		switch {
		case tt.cme != -2 && (!errors.As(err, &cme) || cme.Code != tt.cme):
			t.Errorf("%q: %#v, want CME %d", tt.line, err, tt.cme)
		case tt.cms != -2 && (!errors.As(err, &cms) || cms.Code != tt.cms):
			t.Errorf("%q: %#v, want CMS %d", tt.line, err, tt.cms)
		}
	}
}

func TestCMSClassification(t *testing.T) {
	tests := []struct {
		code                 int
		transient, permanent bool
	}{
		{38, true, false}, {41, true, false}, {42, true, false}, {47, true, false},
		{331, true, false}, {332, true, false}, {500, true, false}, {512, true, false},
		{515, true, false}, {516, false, false}, {314, true, false},
		{1, false, true}, {21, false, true}, {28, false, true}, {96, false, true},
		{304, false, true}, {196, false, true}, {192, true, false},
		{321, false, false}, {322, false, false}, {330, false, false},
		// The sender barred: not the message's fault.
		{8, false, false}, {10, false, false}, {50, false, false},
	}
	for _, tt := range tests {
		e := &CMSError{Code: tt.code}
		if e.Transient() != tt.transient || e.Permanent() != tt.permanent {
			t.Errorf("CMS %d: transient %v permanent %v, want %v %v",
				tt.code, e.Transient(), e.Permanent(), tt.transient, tt.permanent)
		}
		if barred := tt.code == 8 || tt.code == 10 || tt.code == 50; e.SIMBarred() != barred {
			t.Errorf("CMS %d: SIM barred %v, want %v", tt.code, e.SIMBarred(), barred)
		}
	}
}

func TestIsReboot(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"RDY", true}, {"+CFUN: 1", true}, {"+CFUN:1", true}, {"^SYSSTART", true},
		{"+CFUN: 0", false}, {"^BOOT:20371284,0,0,0,75", false}, {"Call Ready", false},
		{"SMS Ready", false}, {"+CPIN: READY", false}, {"+QIND: SMS DONE", false},
	}
	for _, tt := range tests {
		ind := Indication{Name: lineName(tt.line), Line: tt.line}
		if got := ind.IsReboot(); got != tt.want {
			t.Errorf("%q: IsReboot() = %v, want %v", tt.line, got, tt.want)
		}
	}
	if (Indication{Name: "+CFUN"}).IsReboot() {
		t.Error("inconsistent Indication reported a reboot")
	}
}
