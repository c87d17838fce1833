package ussd

import (
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

var cusdSeeds = []string{
	`+CUSD: 0,"CF2135487D2E4131DCCD25A381E02E",15`,
	`+CUSD: 2,"CE325C1EB6A7D9EE7C1AE47EB7CB72507DCEAE9FD3",15`,
	`+CUSD: 0,"A0E09A5E2FB3D9E539E858A7A3C3E2B25B07CAB9723150B12A7501",15`,
	`+CUSD: 0,"04110430043B0430043D0441003A0020003100350031002C003200350020044004430431002E",72`,
	`+CUSD: 0,"004D0069006E007500730020003500200072002E",15`,
	`+CUSD: 0,"F23A04110430043B0430043D04410020003500200440",17`,
	`+CUSD: 0,"42616C616E636520352E303020722E",68`,
	"+CUSD: 0,\" Vash balans 968.98 r.\nDlya vas - nedelya besplatnogo SMS-obsh'eniya s drugom! Podkl.: *320#\",15",
	"+CUSD: 1,\"1>Balans\r\n2>Pakety\",15",
	`+CUSD: 4`,
	`+CUSD: 0,Balance:92,40r`,
	`+CUSD: 0,"Balance 1.00 r,15`,
}

func FuzzParseCUSD(f *testing.F) {
	for _, s := range cusdSeeds {
		f.Add(s)
	}
	decodings := map[string]bool{"": true, DecodingGSM7: true, DecodingGSM7PackedHex: true,
		DecodingUCS2Hex: true, DecodingUCS2HexLang: true, Decoding8Bit: true, DecodingText: true}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseCUSD(line)
		if err != nil {
			return
		}
		if !r.Status.valid() || r.DCS < -1 || r.DCS > 255 || !decodings[r.Decoding] {
			t.Fatalf("out of range: %+v", r)
		}
		if !strings.Contains(line, r.Raw) {
			t.Fatalf("Raw %q is not part of the line", r.Raw)
		}
		if !utf8.ValidString(r.Text) {
			t.Fatalf("Text is not UTF-8: %q", r.Text)
		}
		if (r.Raw == "") != (r.Decoding == "") || (r.Decoding == "" && r.Text != "") {
			t.Fatalf("text without raw or the reverse: %+v", r)
		}
		if r.Decoding != DecodingText && r.Decoding != "" && readability(r.Text) < minReadability {
			t.Fatalf("unreadable hex decoding chosen: %+v", r)
		}
	})
}

func FuzzParseBalance(f *testing.F) {
	for _, c := range balanceCases {
		f.Add(c.text)
	}
	profiles := mustDefaultProfiles(f)
	f.Fuzz(func(t *testing.T, text string) {
		checkFuzzedBalance(t, "generic", ParseBalance(text), text)
		for _, p := range profiles {
			checkFuzzedBalance(t, p.Name, p.ParseBalance(text), text)
		}
	})
}

// checkFuzzedBalance asserts that a parsed amount is written in the text:
// Match is part of it, and its digits spell the amount.
func checkFuzzedBalance(t *testing.T, who string, b Balance, text string) {
	t.Helper()
	if b.Text != text {
		t.Fatalf("%s: Text changed", who)
	}
	if !b.Parsed {
		if b.Match != "" || !b.Amount.IsZero() || b.Currency != "" {
			t.Fatalf("%s: unparsed balance carries data: %+v", who, b)
		}
		return
	}
	if b.Match == "" || !strings.Contains(text, b.Match) || b.Currency != "RUB" {
		t.Fatalf("%s: match %q not in %q (currency %q)", who, b.Match, text, b.Currency)
	}
	if want, ok := kopecksWritten(b.Match); !ok || abs(b.Amount.Kopecks()) != want {
		t.Fatalf("%s: amount %s but match %q spells %d kopecks", who, b.Amount, b.Match, want)
	}
}

// kopecksWritten reads a match independently of the parser: digit runs, the
// last one a fraction when it follows '.' or ',' and has 1-2 digits, or
// kopecks when a word stands between it and the roubles.
func kopecksWritten(match string) (int64, bool) {
	var runs []string
	var seps []string
	cur, sep := "", ""
	for _, r := range match {
		if r >= '0' && r <= '9' {
			if cur == "" && len(runs) > 0 {
				seps = append(seps, sep)
			}
			cur += string(r)
			sep = ""
			continue
		}
		if cur != "" {
			runs = append(runs, cur)
			cur = ""
		}
		sep += string(r)
	}
	if cur != "" {
		runs = append(runs, cur)
	}
	if len(runs) == 0 {
		return 0, false
	}
	n := len(runs)
	frac := ""
	if n > 1 && len(runs[n-1]) <= 2 {
		last := seps[n-2]
		switch {
		case last == "." || last == ",":
			frac = (runs[n-1] + "0")[:2]
			runs = runs[:n-1]
		case strings.IndexFunc(last, unicode.IsLetter) >= 0:
			frac = "0" + runs[n-1]
			frac = frac[len(frac)-2:]
			runs = runs[:n-1]
		}
	}
	whole, err := strconv.ParseInt(strings.Join(runs, ""), 10, 64)
	if err != nil {
		return 0, false
	}
	k, _ := strconv.ParseInt(frac+"00", 10, 64)
	if frac != "" {
		k, _ = strconv.ParseInt(frac, 10, 64)
	}
	return whole*100 + k, true
}

func abs(k int64) int64 {
	if k < 0 {
		return -k
	}
	return k
}
