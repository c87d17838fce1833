package ussd

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestValidCode(t *testing.T) {
	tests := []struct {
		code    string
		wantErr string // substring; "" means valid
	}{
		{"*100#", ""},
		{"*111*0887#", ""},
		{"1", ""},
		{"#102#", ""},
		{strings.Repeat("1", MaxCodeLen), ""},
		{"", "empty"},
		{strings.Repeat("1", MaxCodeLen+1), "65 bytes"},
		{`*100#",15;+CMGS`, `0x22 at position 5`},
		{"*100#\r\nATD", "0x0d at position 5"},
		{"*10a#", "0x61 at position 3"},
		{"*100# ", "0x20 at position 5"},
		{"＊100#", "0xef at position 0"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.code), func(t *testing.T) {
			err := ValidCode(tt.code)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidCode(%q) = %v, want nil", tt.code, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidCode) {
				t.Fatalf("ValidCode(%q) = %v, want ErrInvalidCode mentioning %q", tt.code, err, tt.wantErr)
			}
		})
	}
}

func TestEncodeRequest(t *testing.T) {
	tests := []struct {
		code    string
		dialect Dialect
		want    string
	}{
		// The three from the field notes, as Huawei sticks accept them.
		{"*100#", DialectGSM7Hex, "AA180C3602"},
		{"*102#", DialectGSM7Hex, "AA184C3602"},
		{"*105#", DialectGSM7Hex, "AA18AC3602"},
		// Packed by hand. 7 septets = 8n-1: the 7 spare bits carry CR (0x0D<<1).
		{"*111*1#", DialectGSM7Hex, "AA582CA68A8D1A"},
		// 8 septets end on an octet boundary: no filler.
		{"*111*11#", DialectGSM7Hex, "AA582CA68AC546"},
		{"*100#", DialectUCS2, "002A0031003000300023"},
		{"*100#", DialectText, "*100#"},
		{"*111*0887#", DialectText, "*111*0887#"},
	}
	for _, tt := range tests {
		t.Run(string(tt.dialect)+" "+tt.code, func(t *testing.T) {
			arg, dcs, err := EncodeRequest(tt.code, tt.dialect)
			if err != nil {
				t.Fatal(err)
			}
			if arg != tt.want || dcs != 15 {
				t.Fatalf("EncodeRequest(%q, %s) = %q, %d, want %q, 15", tt.code, tt.dialect, arg, dcs, tt.want)
			}
		})
	}
}

func TestEncodeRequestRejects(t *testing.T) {
	if _, _, err := EncodeRequest(`*100#"`, DialectText); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("quote in code: err = %v, want ErrInvalidCode", err)
	}
	if _, _, err := EncodeRequest("*100#", Dialect("utf8")); err == nil || !strings.Contains(err.Error(), `"utf8"`) {
		t.Errorf("unknown dialect: err = %v, want one naming it", err)
	}
}

// 15 septets = 8n-1 again: the last octet is CR<<1 plus the top bit of '#'.
func TestEncodeRequestFillerAt15(t *testing.T) {
	arg, _, err := EncodeRequest("*111*0887*1234#", DialectGSM7Hex)
	if err != nil {
		t.Fatal(err)
	}
	if len(arg) != 28 || !strings.HasSuffix(arg, "1A") {
		t.Fatalf("got %s, want 14 octets ending in 1A", arg)
	}
}

// Packing must round-trip through this package's own unpacking for every
// length around the filler boundaries. A wanted CR that ends on an octet
// boundary comes back doubled: 23.038 has the sender add a second CR, which
// the receiver keeps.
func TestPackUnpackRoundTrip(t *testing.T) {
	for n := 1; n <= 24; n++ {
		for _, last := range []byte{'#', septetCR, 0x01} {
			septets := []byte(strings.Repeat("5", n-1))
			septets = append(septets, last)
			want := string(septets)
			if n%8 == 0 && last == septetCR {
				want += "\r"
			}
			got := unpackUSSD(packUSSD(septets))
			if string(got) != want {
				t.Errorf("n=%d last=0x%02x: round trip %X -> %X", n, last, septets, got)
			}
		}
	}
}

func TestDialectFor(t *testing.T) {
	tests := []struct {
		manufacturer, charset string
		want                  Dialect
	}{
		{"huawei", "GSM", DialectGSM7Hex},
		{" HUAWEI ", "IRA", DialectGSM7Hex},
		{"Hua wei Technologies Co., Ltd.", "UCS2", DialectGSM7Hex},
		{"SIMCOM_Ltd", "GSM", DialectText},
		{"Quectel", "ucs2", DialectUCS2},
		{"ZTE INCORPORATED", " UCS2 ", DialectUCS2},
		{"", "", DialectText},
	}
	for _, tt := range tests {
		if got := DialectFor(tt.manufacturer, tt.charset); got != tt.want {
			t.Errorf("DialectFor(%q, %q) = %s, want %s", tt.manufacturer, tt.charset, got, tt.want)
		}
	}
}

func TestLearn(t *testing.T) {
	tests := []struct {
		name   string
		sent   Dialect
		line   string
		want   Dialect
		wantOK bool
	}{
		{"packed hex reply means a Huawei-style modem", DialectText,
			`+CUSD: 0,"CF2135487D2E4131DCCD25A381E02E",15`, DialectGSM7Hex, true},
		{"UCS2 hex under a GSM DCS means CSCS=UCS2", DialectText,
			`+CUSD: 0,"004D0069006E007500730020003500200072002E",15`, DialectUCS2, true},
		{"plain text means text", DialectGSM7Hex,
			`+CUSD: 0,"Balance: 12.00 r.",15`, DialectText, true},
		{"UCS2 sent by the network says nothing", DialectText,
			`+CUSD: 0,"04110430043B0430043D0441003A0020003100350031002C003200350020044004430431002E",72`, DialectText, false},
		{"no text says nothing", DialectGSM7Hex, `+CUSD: 4`, DialectGSM7Hex, false},
		{"empty text says nothing", DialectUCS2, `+CUSD: 2,"",15`, DialectUCS2, false},
		{"a broken hex reply says nothing", DialectGSM7Hex, `+CUSD: 0,"0411043004",72`, DialectGSM7Hex, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply, err := ParseCUSD(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := Learn(tt.sent, reply)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("Learn(%s, %+v) = %s, %v, want %s, %v", tt.sent, reply, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestDialectCache(t *testing.T) {
	var c DialectCache
	if _, ok := c.Lookup("E173", "21.017"); ok {
		t.Fatal("empty cache found an entry")
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Learn(fmt.Sprintf("model%d", i), "fw", DialectUCS2)
			c.Lookup("E173", "21.017")
		}()
	}
	wg.Wait()
	c.Learn("E173", "21.017.09.00.314", DialectGSM7Hex)
	if d, ok := c.Lookup(" e173 ", "21.017.09.00.314"); !ok || d != DialectGSM7Hex {
		t.Errorf("Lookup with other spacing and case = %s, %v", d, ok)
	}
	if _, ok := c.Lookup("E173", "11.126"); ok {
		t.Error("other firmware shares an entry")
	}
	if d, ok := c.Lookup("model3", "fw"); !ok || d != DialectUCS2 {
		t.Errorf("concurrently learned entry = %s, %v", d, ok)
	}
}
