package sms

import (
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		name  string
		text  string
		opts  SubmitOptions
		parts int
		enc   Encoding
	}{
		{"empty", "", SubmitOptions{}, 0, EncodingGSM7},
		{"one char", "a", SubmitOptions{}, 1, EncodingGSM7},
		{"160 GSM", r("a", 160), SubmitOptions{}, 1, EncodingGSM7},
		{"161 GSM", r("a", 161), SubmitOptions{}, 2, EncodingGSM7},
		{"306 GSM", r("a", 306), SubmitOptions{}, 2, EncodingGSM7},
		{"307 GSM", r("a", 307), SubmitOptions{}, 3, EncodingGSM7},
		{"304 GSM 16-bit ref", r("a", 304), SubmitOptions{Ref16: true}, 2, EncodingGSM7},
		{"305 GSM 16-bit ref", r("a", 305), SubmitOptions{Ref16: true}, 3, EncodingGSM7},
		{"GSM accents and Greek", "Ça déjà ΔΦΓ £$¥ èéùìò", SubmitOptions{}, 1, EncodingGSM7},
		{"80 extension chars", r("€[]{}^~|\\", 8) + r("€", 8), SubmitOptions{}, 1, EncodingGSM7},
		{"81 extension chars", r("€[]{}^~|\\", 9), SubmitOptions{}, 2, EncodingGSM7},
		{"158 + euro", r("a", 158) + "€", SubmitOptions{}, 1, EncodingGSM7},
		{"159 + euro", r("a", 159) + "€", SubmitOptions{}, 2, EncodingGSM7},
		// 152 septets then an escape pair at 153..154: the escape moves to part 2.
		{"escape at part boundary", r("a", 152) + "€" + r("a", 152), SubmitOptions{}, 3, EncodingGSM7},
		{"literal ESC forces UCS2", "a\x1bb", SubmitOptions{}, 1, EncodingUCS2},
		{"70 Cyrillic", r("ж", 70), SubmitOptions{}, 1, EncodingUCS2},
		{"71 Cyrillic", r("ж", 71), SubmitOptions{}, 2, EncodingUCS2},
		{"134 Cyrillic", r("ж", 134), SubmitOptions{}, 2, EncodingUCS2},
		{"135 Cyrillic", r("ж", 135), SubmitOptions{}, 3, EncodingUCS2},
		{"300 Cyrillic", r("ж", 300), SubmitOptions{}, 5, EncodingUCS2},
		{"132 Cyrillic 16-bit ref", r("ж", 132), SubmitOptions{Ref16: true}, 2, EncodingUCS2},
		{"133 Cyrillic 16-bit ref", r("ж", 133), SubmitOptions{Ref16: true}, 3, EncodingUCS2},
		{"one lowercase ç is not GSM", r("a", 60) + "ç", SubmitOptions{}, 1, EncodingUCS2},
		{"35 emoji are 70 units", r("😀", 35), SubmitOptions{}, 1, EncodingUCS2},
		{"36 emoji are 72 units", r("😀", 36), SubmitOptions{}, 2, EncodingUCS2},
		// 66 units then a pair at units 67..68: the pair moves to part 2.
		{"surrogate pair at part boundary", r("ж", 66) + "😀" + r("ж", 66), SubmitOptions{}, 3, EncodingUCS2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, enc := SplitWith(tt.text, tt.opts)
			if parts != tt.parts || enc != tt.enc {
				t.Fatalf("SplitWith = %d, %s; want %d, %s", parts, enc, tt.parts, tt.enc)
			}
			if !tt.opts.Ref16 {
				if p, e := Split(tt.text); p != parts || e != enc {
					t.Errorf("Split = %d, %s; SplitWith with zero options = %d, %s", p, e, parts, enc)
				}
			}
			if tt.text == "" {
				return
			}
			sent, err := EncodeSubmit("+79161234567", tt.text, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(sent) != parts {
				t.Errorf("EncodeSubmit made %d parts, Split said %d", len(sent), parts)
			}
		})
	}
}

// TestSplitKeepsUnitsWhole checks where the cut falls, not only how many
// parts there are: each part must decode on its own to whole characters.
func TestSplitKeepsUnitsWhole(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"escape", r("a", 152) + "€" + r("b", 10), []string{r("a", 152), "€" + r("b", 10)}},
		{"no escape", r("a", 153) + "€" + r("b", 10), []string{r("a", 153), "€" + r("b", 10)}},
		{"surrogate pair", r("ж", 66) + "😀" + r("ж", 3), []string{r("ж", 66), "😀" + r("ж", 3)}},
		{"no pair", r("ж", 67) + "😀" + r("ж", 3), []string{r("ж", 67), "😀" + r("ж", 3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := EncodeSubmit("+79161234567", tt.text, SubmitOptions{ConcatRef: 1})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range parts {
				s, err := DecodeSubmit(p.PDU)
				if err != nil {
					t.Fatalf("part %d: %v", p.Seq, err)
				}
				got = append(got, s.Text)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("parts = %q, want %q", got, tt.want)
			}
		})
	}
}
