package gsm

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gsmbridge/gsmbridge/sms"
)

// AT+CMGS on the wire: the prompt, the PDU with Ctrl-Z, and the answers
// firmware gives.
func TestSendPDUPlayback(t *testing.T) {
	parts, err := sms.EncodeSubmit("+79161234567", "Code 4711", sms.SubmitOptions{StatusReport: true})
	if err != nil {
		t.Fatal(err)
	}
	p := parts[0]
	send := fmt.Sprintf("> AT+CMGS=%d\n<< \"\\r\\n> \"\n>> %q\n", p.TPDULen, p.PDU+"\x1a")
	tests := []struct {
		name   string
		script string
		mr     int
		code   string // Classify's code of the error; "" for none
		perm   bool
		// unknown: the PDU may have gone out
		unknown bool
	}{
		{name: "sent", script: send + "< +CMGS: 17\n< OK", mr: 17},
		{name: "sent, with a status line before the reference", script: send + "< ^RSSI:15\n< +CMGS: 255\n< OK", mr: 255},
		{name: "sent without a reference", script: send + "< OK", mr: -1},
		{name: "a network failure after the PDU", script: send + "< +CMS ERROR: 38", mr: -1, code: "CMS 38"},
		{name: "the PDU refused before the prompt", script: fmt.Sprintf("> AT+CMGS=%d\n< +CMS ERROR: 304", p.TPDULen),
			mr: -1, code: "CMS 304", perm: true},
		{name: "a reboot after the PDU was written", script: send + "< RDY", mr: -1, code: "outcome_unknown", unknown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, done := replay(t, tt.script)
			mr, err := New(eng, Options{}).SendPDU(t.Context(), p)
			done()
			f := Classify(err)
			if mr != tt.mr || f.Code != tt.code || f.Permanent != tt.perm || f.OutcomeUnknown != tt.unknown {
				t.Fatalf("mr %d, %+v (%v); want mr %d, code %q, permanent %v, unknown %v",
					mr, f, err, tt.mr, tt.code, tt.perm, tt.unknown)
			}
			if tt.unknown && !errors.Is(err, ErrOutcomeUnknown) {
				t.Fatalf("err %v, want ErrOutcomeUnknown", err)
			}
		})
	}
}
