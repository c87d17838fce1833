package gsm

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Failure
	}{
		{"none", nil, Failure{}},
		{"a transient network failure keeps its code and meaning",
			fmt.Errorf("atcmd CMGS: %w", &atcmd.CMSError{Code: 38, Text: "network out of order"}),
			Failure{Code: "CMS 38", Message: "network out of order (CMS 38)", ModemFault: true}},
		{"an unassigned number is permanent", &atcmd.CMSError{Code: 1, Text: "unassigned (unallocated) number"},
			Failure{Code: "CMS 1", Message: "unassigned (unallocated) number (CMS 1)", Permanent: true, ModemFault: true}},
		{"a malformed PDU is permanent", &atcmd.CMSError{Code: 304, Text: "invalid PDU mode parameter"},
			Failure{Code: "CMS 304", Message: "invalid PDU mode parameter (CMS 304)", Permanent: true, ModemFault: true}},
		{"a SIM refusal", &atcmd.CMEError{Code: 10, Text: "SIM not inserted"},
			Failure{Code: "CME 10", Message: "SIM not inserted (CME 10)", ModemFault: true}},
		{"the modem lost after the data: the outcome is unknown",
			fmt.Errorf("atcmd CMGS: %w: %w", atcmd.ErrOutcomeUnknown, atcmd.ErrTimeout),
			Failure{Code: "outcome_unknown", Message: "atcmd CMGS: atcmd: outcome unknown: atcmd: timeout", OutcomeUnknown: true}},
		{"a timeout", fmt.Errorf("atcmd CSQ: %w", ErrTimeout), Failure{Code: "timeout", Message: "atcmd CSQ: atcmd: timeout"}},
		{"a lost port", fmt.Errorf("%w: read: EIO", atcmd.ErrPortLost), Failure{Code: "port_lost", Message: "atcmd: port lost: read: EIO", ModemFault: true}},
		{"a hung write", ErrHung, Failure{Code: "port_lost", Message: "atcmd: write hung", ModemFault: true}},
		{"a plain refusal", &atcmd.ResultError{Result: "ERROR"}, Failure{Code: "error", Message: "modem answered ERROR", ModemFault: true}},
		{"a restart while waiting", fmt.Errorf("ussd reply: %w", ErrReboot),
			Failure{Code: "error", Message: "ussd reply: " + ErrReboot.Error(), ModemFault: true}},
		{"anything else", errors.New("boom"), Failure{Code: "error", Message: "boom"}},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	// gsm's sentinels are the engine's: errors.Is works with either.
	if !errors.Is(fmt.Errorf("x: %w", atcmd.ErrTimeout), ErrTimeout) || !errors.Is(ErrOutcomeUnknown, atcmd.ErrOutcomeUnknown) {
		t.Error("gsm's sentinels are not the engine's")
	}
}
