package sms

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var realPDUs = []string{
	pduHelloHello, pduHowAreYou, pduSipgate, pduMTSCyrillic, pduTele2, pduTele2Concat,
	pduAirtimeShort, pduCyrillic1, pduCyrillic2, pduCyrillic3,
	cdsModemManager, cdsDelivered, cdsZTE, cdsNoSMSC, cdsNordicNoSMSC, cdsUnicom,
	"0011000B916407281553F80000AA0AE8329BFD4697D9EC37",
	"079153485002020911000C915348870420140000A71154747A0E4ACF41F4F29C9E769F4121",
	"07914400000000F01100099121436587F90008F40A4E16754C60A8597DFF01",
	"0019000B917228001011F100003170013193008017D474BB3CA787DB70903DCC4E93D3F43C885E9ED301",
	"0591721891F101000B917228214365F700040C48656C6C6F20776F726C6421",
}

func FuzzDecodeDeliver(f *testing.F) {
	for _, p := range realPDUs {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, pdu string) {
		d, err := DecodeDeliver(pdu)
		if err != nil {
			return
		}
		if d.Concat != nil && (d.Concat.Seq < 1 || d.Concat.Seq > d.Concat.Total) {
			t.Fatalf("concat %+v out of range", d.Concat)
		}
		if !utf8.ValidString(d.Text) {
			t.Fatalf("text %q is not UTF-8", d.Text)
		}
		if text, complete := Assemble([]*Deliver{d}); complete != (d.Concat == nil) || d.Concat == nil && text != d.Text {
			t.Fatalf("Assemble of one part = %q, %v", text, complete)
		}
		_ = MaskNumber(d.From)
	})
}

func FuzzDecodeStatusReport(f *testing.F) {
	for _, p := range realPDUs {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, pdu string) {
		r, err := DecodeStatusReport(pdu)
		if err != nil {
			return
		}
		if r.Meaning() == "" {
			t.Fatalf("no meaning for 0x%02X", r.Status)
		}
		_ = r.Outcome()
	})
}

// FuzzDecodeSubmit checks that whatever DecodeSubmit accepts as a plain
// single-part text message to a normal number survives our own encoder: the
// re-encoded PDU decodes to the same recipient, text and flags.
func FuzzDecodeSubmit(f *testing.F) {
	for _, p := range realPDUs {
		f.Add(p)
	}
	for _, p := range []string{"+79161234567", "+46708251358"} {
		for _, text := range []string{"hello", "Привет", strings.Repeat("€", 100)} {
			parts, err := EncodeSubmit(p, text, SubmitOptions{ConcatRef: 3, StatusReport: true})
			if err != nil {
				f.Fatal(err)
			}
			for _, part := range parts {
				f.Add(part.PDU)
			}
		}
	}
	f.Fuzz(func(t *testing.T, pdu string) {
		s, err := DecodeSubmit(pdu)
		if err != nil {
			return
		}
		if n, err := TPDULength(pdu); err != nil || n != s.TPDULen {
			t.Fatalf("TPDULength = %d, %v; decoded TPDULen %d", n, err, s.TPDULen)
		}
		if s.Encoding == Encoding8Bit || s.Text == "" || s.ToAlpha {
			return
		}
		to, err := Normalize(s.To)
		if err != nil || to != s.To {
			return
		}
		smsc := s.SMSC // kept when it is one EncodeSubmit accepts
		if n, err := Normalize(smsc); err != nil || n != smsc {
			smsc = ""
		}
		parts, err := EncodeSubmit(s.To, s.Text, SubmitOptions{SMSC: smsc, StatusReport: s.SRR})
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", s, err)
		}
		var text strings.Builder
		for _, p := range parts {
			back, err := DecodeSubmit(p.PDU)
			if err != nil {
				t.Fatalf("our own PDU %s: %v", p.PDU, err)
			}
			if back.To != s.To || back.SRR != s.SRR {
				t.Fatalf("re-encoded %+v as %+v", s, back)
			}
			text.WriteString(back.Text)
		}
		if text.String() != s.Text {
			t.Fatalf("text %q came back as %q", s.Text, text.String())
		}
	})
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"+79161234567", "89161234567", "79161234567", "9161234567", "8 (916) 123-45-67",
		"+44 20 7946 0958", "0079161234567", "", "+", "MTS", "7+9161234567", " +7\u00a0916 123–45–67 ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_ = MaskNumber(in) // must not panic on anything
		out, err := Normalize(in)
		if err != nil {
			return
		}
		if !e164.MatchString(out) {
			t.Fatalf("Normalize(%q) = %q, not E.164", in, out)
		}
		if strings.HasPrefix(out, "+7") && len(out) != 12 {
			t.Fatalf("Normalize(%q) = %q: +7 numbers have 11 digits", in, out)
		}
		if again, err := Normalize(out); err != nil || again != out {
			t.Fatalf("Normalize(%q) = %q, %v; not idempotent", out, again, err)
		}
		if m := MaskNumber(out); strings.Count(m, "*") < 4 || strings.Contains(m, out[len(out)-7:]) {
			t.Fatalf("MaskNumber(%q) = %q shows too much", out, m)
		}
	})
}

// FuzzEncodeSubmit checks Split against EncodeSubmit and the text round trip
// through DecodeSubmit for arbitrary text.
func FuzzEncodeSubmit(f *testing.F) {
	for _, s := range []string{"hello", "Оплата получена", "€[]{}", "😀x😀", "a\x1bb", strings.Repeat("ж", 67) + "😀"} {
		f.Add(s, uint16(1), false)
	}
	f.Fuzz(func(t *testing.T, text string, ref uint16, ref16 bool) {
		opts := SubmitOptions{ConcatRef: ref, Ref16: ref16}
		n, enc := SplitWith(text, opts)
		parts, err := EncodeSubmit("+79161234567", text, opts)
		if err != nil {
			if text == "" || !utf8.ValidString(text) || n > maxParts {
				return
			}
			t.Fatalf("EncodeSubmit(%q): %v", text, err)
		}
		if len(parts) != n {
			t.Fatalf("Split says %d parts, EncodeSubmit made %d", n, len(parts))
		}
		var got strings.Builder
		for _, p := range parts {
			s, err := DecodeSubmit(p.PDU)
			if err != nil {
				t.Fatalf("part %d of %q: %v", p.Seq, text, err)
			}
			if s.Encoding != enc {
				t.Fatalf("part %d in %s, Split said %s", p.Seq, s.Encoding, enc)
			}
			got.WriteString(s.Text)
		}
		if got.String() != text {
			t.Fatalf("%q came back as %q", text, got.String())
		}
	})
}
