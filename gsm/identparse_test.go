package gsm

import (
	"errors"
	"strings"
	"testing"
)

func TestParseInfo(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
	}{
		{[]string{"huawei"}, "huawei"},
		{[]string{" ZTE INCORPORATED"}, "ZTE INCORPORATED"},
		{[]string{"+CGMI: Quectel"}, "Quectel"},
		{[]string{"+CGMM:\"SIMCOM_SIM800\""}, "SIMCOM_SIM800"},
		{[]string{"", "  EC25"}, "EC25"},
		{[]string{"Revision:1418B04SIM800L24"}, "1418B04SIM800L24"},
		{[]string{"+CGMR: EC25EFAR06A06M4G"}, "EC25EFAR06A06M4G"},
		{[]string{"11.608.12.02.143"}, "11.608.12.02.143"},
		{[]string{"SWI9X30C_02.33.03.00 r8209 CARMD-EV-FRMWR2 2019/08/28 20:59:30"}, "SWI9X30C_02.33.03.00 r8209 CARMD-EV-FRMWR2 2019/08/28 20:59:30"},
		{[]string{"Manufacturer: Sierra Wireless, Incorporated"}, "Sierra Wireless, Incorporated"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := parseInfo(tt.lines); got != tt.want {
			t.Errorf("parseInfo(%q) = %q, want %q", tt.lines, got, tt.want)
		}
	}
}

func TestParseIMEI(t *testing.T) {
	tests := []struct {
		lines         []string
		wantRaw, want string
	}{
		{[]string{"863789012345678"}, "863789012345678", "863789012345678"},
		{[]string{" 863789012345678"}, "863789012345678", "863789012345678"},
		{[]string{"+CGSN: 863789012345678"}, "863789012345678", "863789012345678"},
		{[]string{"+CGSN:\"863789012345678\""}, "863789012345678", "863789012345678"},
		{[]string{"IMEI: 490154203237518"}, "490154203237518", "490154203237518"},
		{[]string{"", "490154203237518"}, "490154203237518", "490154203237518"},
		{[]string{"863789012345670"}, "863789012345670", ""},          // bad check digit
		{[]string{"86378901234567"}, "86378901234567", ""},            // 14 digits
		{[]string{"0000000000000000"}, "0000000000000000", ""},        // clone stick
		{[]string{"123456789012347"}, "123456789012347", ""},          // Luhn-valid junk
		{[]string{"+CGSN: 3539180578321201"}, "3539180578321201", ""}, // IMEISV
		{[]string{"ERROR: no IMEI"}, "no IMEI", ""},
		{nil, "", ""},
	}
	for _, tt := range tests {
		raw, imei := parseIMEI(tt.lines)
		if raw != tt.wantRaw || imei != tt.want {
			t.Errorf("parseIMEI(%q) = %q, %q; want %q, %q", tt.lines, raw, imei, tt.wantRaw, tt.want)
		}
	}
}

func TestValidIMEI(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"490154203237518", true},
		{"863789012345678", true},
		{"352099001761481", true}, // a known cloned IMEI, but indistinguishable from a real one
		{"490154203237517", false},
		{"000000000000000", false},
		{"111111111111111", false}, // Luhn-valid? no matter: one digit repeated
		{"000000001234566", false}, // zero TAC
		{"123456789012347", false},
		{"987654321098767", false},
		{"49015420323751a", false},
		{"4901542032375180", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidIMEI(tt.s); got != tt.want {
			t.Errorf("ValidIMEI(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestValidIMSI(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"250011234567890", true},
		{"250991234567890", true},
		{"00101123456789", true}, // test network, 14 digits
		{"310260123456789", true},
		{"000000000000000", false},
		{"25001123456789012", false},
		{"2500112345", false},
		{"25001123456789x", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidIMSI(tt.s); got != tt.want {
			t.Errorf("ValidIMSI(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
	if got := parseIMSI([]string{"+CIMI: 250011234567890"}); got != "250011234567890" {
		t.Errorf("parseIMSI with prefix = %q", got)
	}
	if got := parseIMSI([]string{" 250011234567890"}); got != "250011234567890" {
		t.Errorf("parseIMSI with blank = %q", got)
	}
	if got := parseIMSI([]string{"SIM not inserted"}); got != "" {
		t.Errorf("parseIMSI of text = %q", got)
	}
}

func TestNormalizeICCID(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{"89701021012345678905", "89701021012345678905"},
		{"98070112103254769850", "89701021012345678905"}, // nibble-swapped 20 digits
		{"8970102101234567898F", "8970102101234567898"},  // 19 digits padded
		{"980701121032547698F8", "8970102101234567898"},  // swapped, pad moves inside the byte
		{"8970102101234567898", "8970102101234567898"},
		{" \"89701021012345678905\" ", "89701021012345678905"},
		{"980701121032547698f8", "8970102101234567898"},
		{"897010210123456789", "897010210123456789"}, // 18 digits, old cards
		{"89701020000000000003", "89701020000000000003"},
		{"89701021012345678904", "89701021012345678904"}, // bad Luhn kept on purpose
	}
	for _, tt := range tests {
		got, err := NormalizeICCID(tt.raw)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeICCID(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
	for _, raw := range []string{
		"", "F", "12345678901234567890", "8970", "897010210123456789012345",
		"89701021F12345678905", "9807011210325476985", "FFFFFFFFFFFFFFFFFFFF", "8970102101234567890X",
	} {
		if got, err := NormalizeICCID(raw); !errors.Is(err, errNotICCID) {
			t.Errorf("NormalizeICCID(%q) = %q, %v; want errNotICCID", raw, got, err)
		}
	}
}

func TestParseICCID(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"huawei", []string{"^ICCID: 98070112103254769850"}, "89701021012345678905"},
		{"huawei no space", []string{"^ICCID:98070112103254769850"}, "89701021012345678905"},
		{"quectel", []string{"+QCCID: 8970102101234567898F"}, "8970102101234567898"},
		{"simcom bare", []string{"89701021012345678905"}, "89701021012345678905"},
		{"ccid quoted", []string{"+CCID: \"89701021012345678905\""}, "89701021012345678905"},
		{"sierra", []string{"ICCID: 89701021012345678905"}, "89701021012345678905"},
		{"zte", []string{"+ZGETICCID: 89701021012345678905"}, "89701021012345678905"},
		{"crsm", []string{"+CRSM: 144,0,\"98070112103254769850\""}, "89701021012345678905"},
		{"crsm unquoted, 145", []string{"+CRSM: 145,0,980701121032547698F8"}, "8970102101234567898"},
		{"leading blank line", []string{"", " +QCCID: 89701021012345678905"}, "89701021012345678905"},
	}
	for _, tt := range tests {
		got, err := parseICCID(tt.lines)
		if err != nil || got != tt.want {
			t.Errorf("%s: parseICCID(%q) = %q, %v; want %q", tt.name, tt.lines, got, err, tt.want)
		}
	}
	for _, lines := range [][]string{
		nil, {""}, {"+CRSM: 148,4"}, {"+CRSM: 106,130,\"\""}, {"+CRSM: 144,0,\"\""}, {"+CCID: ERROR"},
	} {
		if got, err := parseICCID(lines); err == nil {
			t.Errorf("parseICCID(%q) = %q, want an error", lines, got)
		}
	}
}

func TestParseNumbers(t *testing.T) {
	tests := []struct {
		name  string
		parse func([]string) string
		lines []string
		want  string
	}{
		{"cnum international", parseCNUM, []string{`+CNUM: "","+79161234567",145`}, "+79161234567"},
		{"cnum type 145 without plus", parseCNUM, []string{`+CNUM: "Own number","79161234567",145`}, "+79161234567"},
		{"cnum national kept", parseCNUM, []string{`+CNUM: ,"89161234567",129`}, "89161234567"},
		{"cnum empty alpha no quotes", parseCNUM, []string{`+CNUM:,"+79161234567",145,,4`}, "+79161234567"},
		{"cnum second entry", parseCNUM, []string{`+CNUM: "Voice","",129`, `+CNUM: "Data","+79161234567",145`}, "+79161234567"},
		{"cnum ucs2", parseCNUM, []string{`+CNUM: "","002B00370039003100360031003200330034003500360037",145`}, "+79161234567"},
		{"cnum none", parseCNUM, nil, ""},
		{"cnum junk", parseCNUM, []string{`+CNUM: "","abc",129`}, ""},
		{"csca", parseCSCA, []string{`+CSCA: "+79168999100",145`}, "+79168999100"},
		{"csca no space", parseCSCA, []string{`+CSCA:"+79168999100",145`}, "+79168999100"},
		{"csca ucs2", parseCSCA, []string{`+CSCA: "002B00370039003100360038003900390039003100300030",145`}, "+79168999100"},
		{"csca hex", parseCSCA, []string{`+CSCA: "2B3739313638393939313030",145`}, "+79168999100"},
		{"csca type only", parseCSCA, []string{`+CSCA: "79168999100",145`}, "+79168999100"},
		{"csca empty", parseCSCA, []string{`+CSCA: "",129`}, ""},
	}
	for _, tt := range tests {
		if got := tt.parse(tt.lines); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestVendorOf(t *testing.T) {
	tests := map[string]Vendor{
		"huawei": VendorHuawei, "HUAWEI": VendorHuawei, "SIMCOM_Ltd": VendorSIMCom, "SIMCOM INCORPORATED": VendorSIMCom,
		"Quectel": VendorQuectel, "ZTE INCORPORATED": VendorZTE, "Sierra Wireless, Incorporated": VendorSierra,
		"Telit": VendorGeneric, "": VendorGeneric,
	}
	for in, want := range tests {
		if got := VendorOf(in); got != want {
			t.Errorf("VendorOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// Real answers as seeds; the properties hold for any input: no panic, and
// whatever a parser returns passes its own validator.
func FuzzParseIdentityLines(f *testing.F) {
	for _, s := range []string{
		"863789012345678", "+CGSN: \"863789012345678\"", "IMEI: 490154203237518", "+CIMI: 250011234567890",
		`+CNUM: "","+79161234567",145`, `+CNUM: ,"89161234567",129`, `+CSCA: "002B00370039003100360038003900390039003100300030",145`,
		`+CSCA: "2B3739313638393939313030",145`, " huawei", "+CGMI: Quectel",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		lines := strings.Split(line, "\n")
		if _, imei := parseIMEI(lines); imei != "" && !ValidIMEI(imei) {
			t.Fatalf("parseIMEI gave invalid %q", imei)
		}
		if imsi := parseIMSI(lines); imsi != "" && !ValidIMSI(imsi) {
			t.Fatalf("parseIMSI gave invalid %q", imsi)
		}
		for _, n := range []string{parseCNUM(lines), parseCSCA(lines)} {
			if n != "" && strings.Trim(strings.TrimPrefix(n, "+"), "0123456789*#") != "" {
				t.Fatalf("number %q is not a dial string", n)
			}
		}
		parseInfo(lines)
	})
}

func FuzzParseICCID(f *testing.F) {
	for _, s := range []string{
		"^ICCID: 98070112103254769850", "+QCCID: 8970102101234567898F", "+CCID: \"89701021012345678905\"",
		"89701021012345678905", `+CRSM: 144,0,"98070112103254769850"`, "+CRSM: 148,4", "980701121032547698F8",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		got, err := parseICCID(strings.Split(line, "\n"))
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, "89") || len(got) < 18 || len(got) > 20 || !allDigits(got) {
			t.Fatalf("parseICCID(%q) = %q, not a normalised ICCID", line, got)
		}
		if again, err := NormalizeICCID(got); err != nil || again != got {
			t.Fatalf("NormalizeICCID not idempotent on %q: %q, %v", got, again, err)
		}
	})
}
