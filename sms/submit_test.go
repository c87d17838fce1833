package sms

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Known-good SMS-SUBMIT PDUs from public references: the dreamfabric/ofono
// "hellohello" example, ofono's test_prepare_7bit and python-gsmmodem's
// encoder tests.
func TestEncodeSubmitKnownPDUs(t *testing.T) {
	tests := []struct {
		name     string
		to, text string
		opts     SubmitOptions
		want     string
		tpduLen  int
	}{
		{
			name: "hellohello, 4 days",
			to:   "+46708251358", text: "hellohello",
			opts:    SubmitOptions{Validity: 4 * 24 * time.Hour},
			want:    "0011000B916407281553F80000AA0AE8329BFD4697D9EC37",
			tpduLen: 23,
		},
		{
			name: "SMSC given, 24 hours",
			to:   "+358478400241", text: "This is testing !",
			opts:    SubmitOptions{SMSC: "+358405202090", Validity: 24 * time.Hour},
			want:    "079153485002020911000C915348870420140000A71154747A0E4ACF41F4F29C9E769F4121",
			tpduLen: 29,
		},
		{
			name: "no validity",
			to:   "+27820001111", text: "Hello World!",
			want:    "0001000B917228001011F100000CC8329BFD065DDF72363904",
			tpduLen: 24,
		},
		{
			name: "UCS2, 52 weeks",
			to:   "+123456789", text: "世界您好！",
			opts:    SubmitOptions{SMSC: "+44000000000", Validity: 52 * 7 * 24 * time.Hour},
			want:    "07914400000000F01100099121436587F90008F40A4E16754C60A8597DFF01",
			tpduLen: 23,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := EncodeSubmit(tt.to, tt.text, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) != 1 {
				t.Fatalf("got %d parts, want 1", len(parts))
			}
			p := parts[0]
			if p.PDU != tt.want || p.TPDULen != tt.tpduLen || p.Seq != 1 || p.Total != 1 {
				t.Errorf("got %+v\nwant PDU %s, TPDULen %d, 1 of 1", p, tt.want, tt.tpduLen)
			}
			if n, err := TPDULength(p.PDU); err != nil || n != p.TPDULen {
				t.Errorf("TPDULength = %d, %v; want %d", n, err, p.TPDULen)
			}
		})
	}
}

func TestEncodeSubmitRoundTrip(t *testing.T) {
	r := strings.Repeat
	long := "Платёж 1500 ₽ получен. " + r("Спасибо! ", 30)
	tests := []struct {
		name string
		to   string
		text string
		opts SubmitOptions
		enc  Encoding
	}{
		{"GSM7", "89161234567", "Payment received: 1500 RUB. Thank you!", SubmitOptions{}, EncodingGSM7},
		{"GSM7 extension", "+79161234567", "Order {42}: [ok] ~ €5 | a\\b ^", SubmitOptions{}, EncodingGSM7},
		{"UCS2", "+79161234567", "Оплата получена, спасибо!", SubmitOptions{}, EncodingUCS2},
		{"SRR and SMSC", "+79161234567", "ok", SubmitOptions{StatusReport: true, SMSC: "+79168999100"}, EncodingGSM7},
		{"validity", "+79161234567", "ok", SubmitOptions{Validity: 3 * time.Hour}, EncodingGSM7},
		{"GSM7 multipart 8-bit ref", "+79161234567", r("0123456789", 40), SubmitOptions{ConcatRef: 0x1a7}, EncodingGSM7},
		{"GSM7 multipart 16-bit ref", "+79161234567", r("0123456789", 40), SubmitOptions{ConcatRef: 0xbeef, Ref16: true}, EncodingGSM7},
		{"UCS2 multipart 8-bit ref", "+79161234567", long, SubmitOptions{ConcatRef: 7, StatusReport: true, Validity: 24 * time.Hour}, EncodingUCS2},
		{"UCS2 multipart 16-bit ref", "+79161234567", long, SubmitOptions{ConcatRef: 300, Ref16: true}, EncodingUCS2},
		{"emoji multipart", "+79161234567", r("👍🏽", 40), SubmitOptions{ConcatRef: 9}, EncodingUCS2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := EncodeSubmit(tt.to, tt.text, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			wantTo, _ := Normalize(tt.to)
			var text strings.Builder
			for i, p := range parts {
				s, err := DecodeSubmit(p.PDU)
				if err != nil {
					t.Fatalf("part %d: %v\n%s", i+1, err, p.PDU)
				}
				text.WriteString(s.Text)
				if s.To != wantTo || s.Encoding != tt.enc || s.SRR != tt.opts.StatusReport || s.MR != 0 || s.TPDULen != p.TPDULen {
					t.Errorf("part %d decoded as %+v", i+1, s)
				}
				if s.SMSC != tt.opts.SMSC {
					t.Errorf("part %d SMSC = %q, want %q", i+1, s.SMSC, tt.opts.SMSC)
				}
				if want := ValidityDuration(RelativeValidity(tt.opts.Validity)); tt.opts.Validity > 0 && s.VP != want {
					t.Errorf("part %d VP = %v, want %v", i+1, s.VP, want)
				}
				if p.Seq != i+1 || p.Total != len(parts) {
					t.Errorf("part %d says %d of %d", i+1, p.Seq, p.Total)
				}
				if len(parts) == 1 {
					if s.Concat != nil {
						t.Errorf("single part carries %+v", s.Concat)
					}
					continue
				}
				wantRef := tt.opts.ConcatRef
				if !tt.opts.Ref16 {
					wantRef &= 0xff
				}
				want := Concat{Ref: wantRef, Ref16: tt.opts.Ref16, Total: len(parts), Seq: i + 1}
				if s.Concat == nil || *s.Concat != want {
					t.Errorf("part %d concat = %+v, want %+v", i+1, s.Concat, want)
				}
			}
			if text.String() != tt.text {
				t.Errorf("parts join to %q, want %q", text.String(), tt.text)
			}
		})
	}
}

func TestEncodeSubmitRefusals(t *testing.T) {
	tests := []struct {
		name string
		to   string
		text string
		opts SubmitOptions
		want error
	}{
		{"bad recipient", "12345", "hi", SubmitOptions{}, ErrInvalidNumber},
		{"bad SMSC", "+79161234567", "hi", SubmitOptions{SMSC: "x"}, ErrInvalidNumber},
		{"empty text", "+79161234567", "", SubmitOptions{}, ErrEmptyText},
		{"invalid UTF-8", "+79161234567", "a\xffb", SubmitOptions{}, ErrInvalidText},
		{"too long", "+79161234567", strings.Repeat("ж", 67*255+1), SubmitOptions{}, ErrTextTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := EncodeSubmit(tt.to, tt.text, tt.opts); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := EncodeSubmit("+79161234567", "hi", SubmitOptions{Validity: -time.Minute}); err == nil {
		t.Error("negative validity accepted")
	}
	if parts, err := EncodeSubmit("+79161234567", strings.Repeat("ж", 67*255), SubmitOptions{}); err != nil || len(parts) != 255 {
		t.Errorf("255 parts: got %d, %v", len(parts), err)
	}
}

func TestRelativeValidity(t *testing.T) {
	const m, h, d, w = time.Minute, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour
	tests := []struct {
		in   time.Duration
		vp   byte
		back time.Duration // the period the octet stands for
	}{
		{1, 0, 5 * m}, // below the shortest period: 5 minutes
		{4*m + 59*time.Second, 0, 5 * m},
		{5 * m, 0, 5 * m},
		{9*m + 59*time.Second, 0, 5 * m}, // rounds down, not up to 10
		{10 * m, 1, 10 * m},
		{time.Hour, 11, time.Hour},
		{12 * h, 143, 12 * h},
		{12*h + 29*m, 143, 12 * h},
		{12*h + 30*m, 144, 12*h + 30*m},
		{24 * h, 167, 24 * h},
		{47 * h, 167, 24 * h},
		{2 * d, 168, 2 * d},
		{4 * d, 170, 4 * d},
		{30 * d, 196, 30 * d},
		{34 * d, 196, 30 * d},
		{5 * w, 197, 5 * w},
		{52 * w, 244, 52 * w},
		{63 * w, 255, 63 * w},
		{100 * w, 255, 63 * w},
	}
	for _, tt := range tests {
		if got := RelativeValidity(tt.in); got != tt.vp {
			t.Errorf("RelativeValidity(%v) = %d, want %d", tt.in, got, tt.vp)
		}
		if got := ValidityDuration(tt.vp); got != tt.back {
			t.Errorf("ValidityDuration(%d) = %v, want %v", tt.vp, got, tt.back)
		}
	}
	// Every octet is the exact value for its own period and for anything up
	// to the next period: rounding down never skips or repeats a step.
	for vp := 0; vp < 256; vp++ {
		d := ValidityDuration(byte(vp))
		if got := RelativeValidity(d); got != byte(vp) {
			t.Errorf("RelativeValidity(ValidityDuration(%d) = %v) = %d", vp, d, got)
		}
		if vp < 255 {
			next := ValidityDuration(byte(vp + 1))
			if next <= d {
				t.Fatalf("periods not increasing at %d", vp)
			}
			if got := RelativeValidity(next - time.Nanosecond); got != byte(vp) {
				t.Errorf("RelativeValidity(%v) = %d, want %d", next-time.Nanosecond, got, vp)
			}
		}
	}
}
