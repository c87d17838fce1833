package gsm

import (
	"errors"
	"testing"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

func TestParseIndication(t *testing.T) {
	unreadable := errors.New("unreadable")
	tests := []struct {
		ind  atcmd.Indication
		want Event
	}{
		{atcmd.Indication{Name: "+CMTI", Line: `+CMTI: "ME",3`}, NewStored{Slot: Slot{"ME", 3}}},
		{atcmd.Indication{Name: "+cmti", Line: `+cmti: "sm",0`}, NewStored{Slot: Slot{"SM", 0}}}, // Huawei counts from 0
		{atcmd.Indication{Name: "+CDSI", Line: `+CDSI: "SR",2`}, NewStored{Slot: Slot{"SR", 2}, Report: true}},
		{atcmd.Indication{Name: "+CMTI", Line: `+CMTI: "SM"`}, Unreadable{Name: "+CMTI", Err: unreadable}},
		{atcmd.Indication{Name: "+CDSI", Line: `+CDSI: "SR",-1`}, Unreadable{Name: "+CDSI", Err: unreadable}},
		{atcmd.Indication{Name: "+CMT", Line: "+CMT: ,29", PDU: pduDeliver}, Delivered{PDU: pduDeliver}},
		{atcmd.Indication{Name: "+CMT", Line: `+CMT: "",29`}, Delivered{}}, // the PDU line lost
		{atcmd.Indication{Name: "+CDS", Line: "+CDS: 24", PDU: pduReport}, Delivered{PDU: pduReport, Report: true}},
		{atcmd.Indication{Name: "^SMMEMFULL", Line: `^SMMEMFULL: "SM"`}, StorageFull{Mem: "SM"}},
		{atcmd.Indication{Name: "^SMMEMFULL", Line: "^SMMEMFULL"}, StorageFull{}},
		{atcmd.Indication{Name: "+CREG", Line: "+CREG: 3"}, RegistrationChanged{atcmd.Registration{Stat: 3}, true}},
		{atcmd.Indication{Name: "+creg", Line: `+creg: 5,"1A2B","00C3D4E5"`},
			RegistrationChanged{atcmd.Registration{Stat: 5}, true}},
		{atcmd.Indication{Name: "+CREG", Line: "+CREG: 0,1"}, RegistrationChanged{atcmd.Registration{Stat: 1}, true}}, // a firmware that adds <n>
		{atcmd.Indication{Name: "+CREG", Line: "+CREG: x"}, RegistrationChanged{}},
		{atcmd.Indication{Name: "+CGREG", Line: "+CGREG: 3"}, Other{"+CGREG", "+CGREG: 3"}}, // packet domain: not ours
		{atcmd.Indication{Name: "+CPIN", Line: "+CPIN: NOT READY"}, SIMChanged{Code: "NOT READY"}},
		{atcmd.Indication{Name: "+CPIN", Line: "+CPIN: READY"}, SIMChanged{Code: "READY"}},
		{atcmd.Indication{Name: "RDY", Line: "RDY"}, Rebooted{Line: "RDY"}},
		{atcmd.Indication{Name: "+CFUN", Line: "+CFUN: 1"}, Rebooted{Line: "+CFUN: 1"}},
		{atcmd.Indication{Name: "+CFUN", Line: "+CFUN: 0"}, Other{"+CFUN", "+CFUN: 0"}},
		{atcmd.Indication{Name: "^BOOT", Line: "^BOOT:12345,0,0,0,75"}, Other{"^BOOT", "^BOOT:12345,0,0,0,75"}}, // a Huawei keep-alive
		{atcmd.Indication{Name: "^RSSI", Line: "^RSSI:15"}, Other{"^RSSI", "^RSSI:15"}},
	}
	for _, tt := range tests {
		got := ParseIndication(tt.ind)
		// Only what the table says is compared: the stat (atcmd's parser
		// has its own tests) and that an error came.
		switch g := got.(type) {
		case RegistrationChanged:
			got = RegistrationChanged{atcmd.Registration{Stat: g.Registration.Stat}, g.Readable}
		case Unreadable:
			if g.Err != nil {
				got = Unreadable{Name: g.Name, Err: unreadable}
			}
		}
		if got != tt.want {
			t.Errorf("%q: %#v, want %#v", tt.ind.Line, got, tt.want)
		}
	}
}
