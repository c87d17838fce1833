package gsm

import (
	"testing"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

func TestRegistrationReport(t *testing.T) {
	tests := []struct {
		ind  atcmd.Indication
		ok   bool
		stat int
	}{
		{atcmd.Indication{Name: "+CREG", Line: "+CREG: 3"}, true, 3},
		{atcmd.Indication{Name: "+creg", Line: `+creg: 5,"1A2B","00C3D4E5"`}, true, 5},
		{atcmd.Indication{Name: "+CREG", Line: "+CREG: 0,1"}, true, 1},  // a firmware that adds <n>
		{atcmd.Indication{Name: "+CGREG", Line: "+CGREG: 3"}, false, 0}, // packet domain: not ours
		{atcmd.Indication{Name: "+CREG", Line: "+CREG: x"}, false, 0},
		{atcmd.Indication{Name: "^RSSI", Line: "^RSSI:15"}, false, 0},
	}
	for _, tt := range tests {
		reg, ok := RegistrationReport(tt.ind)
		if ok != tt.ok || ok && reg.Stat != tt.stat {
			t.Errorf("%q: stat %d, ok %v; want %d, %v", tt.ind.Line, reg.Stat, ok, tt.stat, tt.ok)
		}
	}
}
