package sms

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/warthog618/sms/encoding/gsm7"
	"github.com/warthog618/sms/encoding/tpdu"
)

func TestDecodeSubmitKnown(t *testing.T) {
	// python-gsmmodem's capture of a SUBMIT with an absolute validity period.
	s, err := DecodeSubmit("0019000B917228001011F100003170013193008017D474BB3CA787DB70903DCC4E93D3F43C885E9ED301")
	if err != nil {
		t.Fatal(err)
	}
	if s.To != "+27820001111" || s.Text != "Timestamp validity test" || s.VP != 0 || s.Concat != nil || s.TPDULen != 41 {
		t.Errorf("got %+v", s)
	}
	checkTime(t, "VPAbsolute", s.VPAbsolute, "2013-07-10 13:39:00 +0200")

	// python-gsmmodem's 8-bit SUBMIT.
	s, err = DecodeSubmit("0591721891F101000B917228214365F700040C48656C6C6F20776F726C6421")
	if err != nil {
		t.Fatal(err)
	}
	if s.SMSC != "+2781191" || s.Encoding != Encoding8Bit || string(s.Data) != "Hello world!" || s.Text != "" {
		t.Errorf("got %+v", s)
	}
}

func TestDecodeSubmitRejects(t *testing.T) {
	const good = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
	// "Part" in a SUBMIT with the given UDH, built by the library's own
	// marshaller so that only the header differs between cases.
	multipart := func(udh ...tpdu.InformationElement) string {
		t.Helper()
		septets, err := gsm7.Encode([]byte("Part"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := tpdu.NewSubmit()
		if err != nil {
			t.Fatal(err)
		}
		p.DA = tpdu.Address{TOA: 0x91, Addr: "46708251358"}
		var vp tpdu.ValidityPeriod
		vp.SetRelative(4 * 24 * time.Hour)
		p.SetVP(vp)
		p.SetUDH(udh)
		p.UD = septets
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return "00" + strings.ToUpper(hex.EncodeToString(b))
	}
	ie := func(id byte, data ...byte) tpdu.InformationElement {
		return tpdu.InformationElement{ID: id, Data: data}
	}
	tests := []struct {
		name string
		pdu  string
		text string
	}{
		{"odd hex", good[:len(good)-1], "odd number of hex digits"},
		{"not hex", strings.Replace(good, "AA", "AG", 1), "invalid byte"},
		{"UDL says more than present", strings.Replace(good, "AA0A", "AA0C", 1), "underflow"},
		{"UDL says less than present", strings.Replace(good, "AA0A", "AA08", 1), "overlength"},
		{"extra octet", good + "00", "overlength"},
		{"UDL beyond 160 septets", "0011000B916407281553F80000AAA1" + strings.Repeat("00", 141), "user data length 161 exceeds 160"},
		{"UCS2 odd length", "0011000B916407281553F80008AA03004100", "odd UCS2 length"},
		{"UCS2 lone surrogate", "0011000B916407281553F80008AA02D83D", "unpaired UTF-16 surrogate U+D83D"},
		{"UCS2 low surrogate first", "0011000B916407281553F80008AA04DE000041", "unpaired UTF-16 surrogate"},
		{"GSM trailing escape", "0011000B916407281553F80000AA02E10D", "lone escape"},
		{"GSM unknown escape", "0011000B916407281553F80000AA021B00", "invalid septet"},
		{"UDHI without user data", "0051000B916407281553F80000AA00", "no user data"},
		{"concat IE too short", multipart(ie(0, 1, 2)), "8-bit concatenation IE has 2 octets"},
		{"16-bit concat IE too short", multipart(ie(8, 1, 2, 2)), "16-bit concatenation IE has 3 octets"},
		{"concat seq 0", multipart(ie(0, 7, 2, 0)), "part 0 of 2"},
		{"concat seq beyond total", multipart(ie(0, 7, 2, 3)), "part 3 of 2"},
		{"concat total 0", multipart(ie(0, 7, 0, 0)), "part 0 of 0"},
		{"UDH longer than user data", "0051000B916407281553F80000AA03050003", "underflow"},
		{"deliver, not submit", pduTele2, "SMS-DELIVER, not SMS-SUBMIT"},
		{"reserved DCS", "0011000B916407281553F80090AA0AE8329BFD4697D9EC37", "alphabet at octet 14: invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := DecodeSubmit(tt.pdu)
			if err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("DecodeSubmit = %+v, %v; want an error containing %q", s, err, tt.text)
			}
			if !errors.Is(err, ErrMalformedPDU) && !errors.Is(err, ErrWrongType) {
				t.Errorf("error %v wraps neither ErrMalformedPDU nor ErrWrongType", err)
			}
		})
	}
	// The well-formed multipart header the bad cases above start from.
	s, err := DecodeSubmit(multipart(ie(0, 7, 2, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Concat == nil || *s.Concat != (Concat{Ref: 7, Total: 2, Seq: 1}) || s.Text != "Part" || s.VP != 4*24*time.Hour {
		t.Errorf("good multipart decoded as %+v, concat %+v", s, s.Concat)
	}
}
