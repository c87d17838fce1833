package atcmd

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseCSQ(t *testing.T) {
	tests := []struct {
		line string
		want Signal
		err  bool
	}{
		{"+CSQ: 17,99", Signal{RSSI: 17, BER: 99, Known: true, DBm: -79, Bars: 3}, false},
		{"+CSQ:0,0", Signal{RSSI: 0, BER: 0, Known: true, DBm: -113}, false},
		{"+CSQ: 31, 7", Signal{RSSI: 31, BER: 7, Known: true, DBm: -51, Bars: 4}, false},
		{"+csq: 99,99", Signal{RSSI: 99, BER: 99}, false},
		{"+CSQ: 12", Signal{RSSI: 12, BER: 99, Known: true, DBm: -89, Bars: 2}, false},
		{"+CSQ: 40,99", Signal{}, true},
		{"+CSQ: ,99", Signal{}, true},
		{"+CREG: 0,1", Signal{}, true},
	}
	for _, tt := range tests {
		got, err := ParseCSQ(tt.line)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseCSQ(%q) = %+v, %v; want %+v, err %v", tt.line, got, err, tt.want, tt.err)
		}
	}
}

func TestParseRegistration(t *testing.T) {
	tests := []struct {
		line string
		want Registration
		err  bool
	}{
		{"+CREG: 0,1", Registration{Name: "+CREG", Mode: 0, Stat: 1, AcT: -1}, false},
		{"+CREG: 1", Registration{Name: "+CREG", Mode: -1, Stat: 1, AcT: -1}, false},
		{`+CREG: 2,1,"1A2B","00C3D4E5"`, Registration{Name: "+CREG", Mode: 2, Stat: 1, HasLocation: true, LAC: 0x1a2b, CI: 0xc3d4e5, AcT: -1}, false},
		{`+CREG: 2,5, "1a2b", "C3D4", 2`, Registration{Name: "+CREG", Mode: 2, Stat: 5, HasLocation: true, LAC: 0x1a2b, CI: 0xc3d4, AcT: 2}, false},
		{`+CREG: 1,"1A2B","00C3D4E5"`, Registration{Name: "+CREG", Mode: -1, Stat: 1, HasLocation: true, LAC: 0x1a2b, CI: 0xc3d4e5, AcT: -1}, false},
		{`+CGREG: 5,"1A2B","00C3D4E5",7`, Registration{Name: "+CGREG", Mode: -1, Stat: 5, HasLocation: true, LAC: 0x1a2b, CI: 0xc3d4e5, AcT: 7}, false},
		{"+CREG: 2,1,1A2B,C3D4", Registration{Name: "+CREG", Mode: 2, Stat: 1, HasLocation: true, LAC: 0x1a2b, CI: 0xc3d4, AcT: -1}, false},
		{"+CREG: 1,0011,C3D4,2", Registration{Name: "+CREG", Mode: -1, Stat: 1, HasLocation: true, LAC: 0x11, CI: 0xc3d4, AcT: 2}, false},
		{`+CEREG: 2,1,"2F1E","0A1B2C3D",7`, Registration{Name: "+CEREG", Mode: 2, Stat: 1, HasLocation: true, LAC: 0x2f1e, CI: 0xa1b2c3d, AcT: 7}, false},
		{`+CGREG: 2,0`, Registration{Name: "+CGREG", Mode: 2, Stat: 0, AcT: -1}, false},
		{`+CREG: 2,2,"",""`, Registration{Name: "+CREG", Mode: 2, Stat: 2, AcT: -1}, false},
		{"+CREG: x", Registration{}, true},
		{"+COPS: 0", Registration{}, true},
	}
	for _, tt := range tests {
		got, err := ParseRegistration(tt.line)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseRegistration(%q) = %+v, %v; want %+v, err %v", tt.line, got, err, tt.want, tt.err)
		}
	}
	if !(Registration{Stat: 5}).Registered() || !(Registration{Stat: 5}).Roaming() || (Registration{Stat: 2}).Registered() {
		t.Error("Registered/Roaming")
	}
}

func TestParseCOPS(t *testing.T) {
	tests := []struct {
		line string
		want Operator
		err  bool
	}{
		{`+COPS: 0,0,"MTS RUS",2`, Operator{Mode: 0, Format: 0, Name: "MTS RUS", AcT: 2}, false},
		{`+COPS: 0,2,"25002",2`, Operator{Mode: 0, Format: 2, Name: "25002", AcT: 2}, false},
		{`+COPS:1,2,25099`, Operator{Mode: 1, Format: 2, Name: "25099", AcT: -1}, false},
		{`+COPS: 0`, Operator{Mode: 0, Format: -1, AcT: -1}, false},
		{`+COPS: 0,0,"Tele2, RU",7`, Operator{Mode: 0, Format: 0, Name: "Tele2, RU", AcT: 7}, false},
		{`+COPS: ,`, Operator{}, true},
	}
	for _, tt := range tests {
		got, err := ParseCOPS(tt.line)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseCOPS(%q) = %+v, %v; want %+v", tt.line, got, err, tt.want)
		}
	}
}

func TestParseCPIN(t *testing.T) {
	tests := []struct{ line, want string }{
		{"+CPIN: READY", "READY"}, {"+CPIN:SIM PIN", "SIM PIN"}, {`+CPIN: "SIM  PUK"`, "SIM PUK"},
		{"+cpin: ready", "READY"}, {"+CPIN: NOT READY", "NOT READY"}, {"+CPIN: ", ""},
	}
	for _, tt := range tests {
		got, err := ParseCPIN(tt.line)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("ParseCPIN(%q) = %q, %v; want %q", tt.line, got, err, tt.want)
		}
	}
}

func TestParseCPMS(t *testing.T) {
	tests := []struct {
		line string
		want []Storage
	}{
		{`+CPMS: "SM",3,20,"SM",3,20,"SM",3,20`, []Storage{{"SM", 3, 20}, {"SM", 3, 20}, {"SM", 3, 20}}},
		{`+CPMS: "ME", 0, 255, "SM",1,50,"MT",1,305`, []Storage{{"ME", 0, 255}, {"SM", 1, 50}, {"MT", 1, 305}}},
		{`+CPMS: 3,20,3,20,3,20`, []Storage{{"", 3, 20}, {"", 3, 20}, {"", 3, 20}}},
		{`+CPMS: SM,3,20`, []Storage{{"SM", 3, 20}}},
		{`+CPMS: "SM"`, nil},
	}
	for _, tt := range tests {
		got, err := ParseCPMS(tt.line)
		if !reflect.DeepEqual(got, tt.want) || (err != nil) != (tt.want == nil) {
			t.Errorf("ParseCPMS(%q) = %+v, %v; want %+v", tt.line, got, err, tt.want)
		}
	}
}

func TestParseCMGL(t *testing.T) {
	lines := []string{
		"+CMGL: 0,1,,22", "07919761989901F0040B919761234567F7000012", // Huawei index 0
		`+CMGL:1,0,"Mom",24`, "0791AA",
		"+CMGL: 2,REC UNREAD,23", "0791BB", // missing alpha, text stat
		"+CMGL: 3,1,,10", // no PDU line before the next header
		"+CMGL: 4,3,,5", "0791CC",
	}
	want := []StoredMessage{
		{Index: 0, Stat: 1, Length: 22, PDU: "07919761989901F0040B919761234567F7000012"},
		{Index: 1, Stat: 0, Alpha: "Mom", Length: 24, PDU: "0791AA"},
		{Index: 2, Stat: 0, Length: 23, PDU: "0791BB"},
		{Index: 3, Stat: 1, Length: 10},
		{Index: 4, Stat: 3, Length: 5, PDU: "0791CC"},
	}
	got, err := ParseCMGL(lines)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseCMGL = %+v, %v\nwant %+v", got, err, want)
	}
	if got, err := ParseCMGL(nil); err != nil || got != nil {
		t.Errorf("empty list: %v, %v", got, err)
	}
	if _, err := ParseCMGL([]string{"+CMGL: 1,x,,3", "00"}); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad stat: %v", err)
	}
}

func TestParseCMGR(t *testing.T) {
	m, found, err := ParseCMGR([]string{"+CMGR: 0,,26", "0791AABB"})
	if err != nil || !found || m != (StoredMessage{Index: -1, Stat: 0, Length: 26, PDU: "0791AABB"}) {
		t.Errorf("got %+v %v %v", m, found, err)
	}
	if _, found, err := ParseCMGR(nil); found || err != nil {
		t.Errorf("empty slot: found %v, %v", found, err)
	}
	m, _, _ = ParseCMGR([]string{`+CMGR:1,"Bank",30`, "07"})
	if m.Alpha != "Bank" || m.Length != 30 || m.Stat != 1 {
		t.Errorf("got %+v", m)
	}
}

func TestParseCUSD(t *testing.T) {
	tests := []struct {
		line string
		want USSD
		err  bool
	}{
		{`+CUSD: 0,"Balance 12.00 r.",15`, USSD{Mode: 0, HasText: true, Text: "Balance 12.00 r.", DCS: 15}, false},
		{`+CUSD: 1,"Menu: 1, 2, \"3\"",15`, USSD{Mode: 1, HasText: true, Text: `Menu: 1, 2, \"3\"`, DCS: 15}, false},
		{`+CUSD: 0,"04110430043B0430043D0441",72`, USSD{Mode: 0, HasText: true, Text: "04110430043B0430043D0441", DCS: 72}, false},
		{`+CUSD: 4`, USSD{Mode: 4, DCS: -1}, false},
		{`+CUSD:2,"Bye"`, USSD{Mode: 2, HasText: true, Text: "Bye", DCS: -1}, false},
		{`+CUSD: 0,C2303BEC1E97,15`, USSD{Mode: 0, HasText: true, Text: "C2303BEC1E97", DCS: 15}, false},
		{`+CUSD: x,"a"`, USSD{}, true},
	}
	for _, tt := range tests {
		got, err := ParseCUSD(tt.line)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseCUSD(%q) = %+v, %v; want %+v", tt.line, got, err, tt.want)
		}
	}
}

func TestParseSmallAnswers(t *testing.T) {
	if r, err := ParseCMTI(`+CMTI: "SM",3`); err != nil || r != (StorageRef{"SM", 3}) {
		t.Errorf("CMTI: %+v %v", r, err)
	}
	if r, err := ParseCMTI(`+CMTI:"me", 0`); err != nil || r != (StorageRef{"ME", 0}) {
		t.Errorf("CMTI: %+v %v", r, err)
	}
	if r, err := ParseCDSI(`+CDSI: "SR",12`); err != nil || r != (StorageRef{"SR", 12}) {
		t.Errorf("CDSI: %+v %v", r, err)
	}
	if _, err := ParseCDSI(`+CDSI: "SR"`); err == nil {
		t.Error("CDSI without index accepted")
	}
	if n, err := ParseCDS("+CDS: 25"); err != nil || n != 25 {
		t.Errorf("CDS: %d %v", n, err)
	}
	for line, want := range map[string]CMTHeader{
		"+CMT: ,24": {Length: 24}, `+CMT: "",24`: {Length: 24}, "+CMT: 24": {Length: 24}, `+CMT: "Bank",30`: {Alpha: "Bank", Length: 30},
	} {
		if h, err := ParseCMT(line); err != nil || h != want {
			t.Errorf("CMT %q: %+v %v", line, h, err)
		}
	}
	if mr, err := ParseCMGS("+CMGS: 12"); err != nil || mr != 12 {
		t.Errorf("CMGS: %d %v", mr, err)
	}
	if mr, err := ParseCMGS(`+CMGS: 7,"24/11/25,10:00:00+12"`); err != nil || mr != 7 {
		t.Errorf("CMGS with scts: %d %v", mr, err)
	}
	if _, err := ParseCMGS("+CMGS: 300"); err == nil {
		t.Error("CMGS reference beyond one octet accepted")
	}
}

func TestParseCNMIRange(t *testing.T) {
	tests := []struct {
		line string
		want [][]int
	}{
		{"+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)", [][]int{{0, 1, 2}, {0, 1, 2, 3}, {0, 2}, {0, 1, 2}, {0, 1}}},
		{"+CNMI: (0,1,2),(0,1),(0),(0,2),(0)", [][]int{{0, 1, 2}, {0, 1}, {0}, {0, 2}, {0}}},
		{"+CNMI:(1-2),(0-1,3),( 0 ),(),(0)", [][]int{{1, 2}, {0, 1, 3}, {0}, nil, {0}}},
	}
	for _, tt := range tests {
		got, err := ParseCNMIRange(tt.line)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCNMIRange(%q) = %v, %v; want %v", tt.line, got, err, tt.want)
		}
	}
	if _, err := ParseCNMIRange("+CNMI: (0-99999999)"); err == nil {
		t.Error("absurd range accepted")
	}
}

func TestParseCPMSRange(t *testing.T) {
	got, err := ParseCPMSRange(`+CPMS: ("SM","ME","MT"),("SM","ME"),("sm")`)
	want := [][]string{{"SM", "ME", "MT"}, {"SM", "ME"}, {"SM"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := ParseCPMSRange(`+CPMS: "SM",1,20`); err == nil {
		t.Error("read answer accepted as range")
	}
}
