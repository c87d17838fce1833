package sms

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// maskCase is one line of testdata/mask_rules.txt.
type maskCase struct {
	line           int
	kind, in, want string
}

// readMaskRules reads the table every copy of the masking rule is held to.
// atcmd and modemsim read the same file (with their own reader: they import
// nothing of ours).
func readMaskRules(t *testing.T, path string) []maskCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []maskCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		var fields []string
		for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			s, _ := strconv.Unquote(q)
			fields, rest = append(fields, s), rest[len(q):]
		}
		if len(fields) != 2 {
			t.Fatalf("%s:%d: want a kind and 2 quoted strings", path, n)
		}
		cases = append(cases, maskCase{line: n, kind: kind, in: fields[0], want: fields[1]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 20 {
		t.Fatalf("%s: %d cases, too few to be real", path, len(cases))
	}
	return cases
}

func TestMaskRulesAgree(t *testing.T) {
	rules := map[string]func(string) string{"number": MaskNumber, "digits": MaskDigits, "text": MaskNumbersIn}
	for _, c := range readMaskRules(t, "testdata/mask_rules.txt") {
		rule, ok := rules[c.kind]
		if !ok {
			t.Fatalf("mask_rules.txt:%d: unknown kind %q", c.line, c.kind)
		}
		if got := rule(c.in); got != c.want {
			t.Errorf("mask_rules.txt:%d: %s(%q) = %q, want %q", c.line, c.kind, c.in, got, c.want)
		}
	}
}

// A masked ICCID or IMSI shows at most 6 of its digits and hides at least
// 4; its length never shows.
func FuzzMaskDigits(f *testing.F) {
	for _, s := range []string{"89701010000000000001", "250011234567890", "imsi:250011234567890", "1234567", ""} {
		f.Add(s)
	}
	digits := func(s string) int {
		n := 0
		for _, r := range s {
			if r >= '0' && r <= '9' {
				n++
			}
		}
		return n
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := MaskDigits(s)
		if shown := digits(m); shown > 6 || shown > digits(s)-4 && shown > 0 {
			t.Fatalf("MaskDigits(%q) = %q shows too much", s, m)
		}
		if a, b := MaskDigits(s+"1234567890"), MaskDigits(s+"12345678901234567890"); digits(s) == 0 && a[len(a)-10:] != b[len(b)-10:] {
			t.Fatalf("MaskDigits shows the length: %q, %q", a, b)
		}
	})
}

// Whatever an error text holds, what MaskNumbersIn leaves of it has no run
// of digits long enough to be a whole phone number.
func FuzzMaskNumbersIn(f *testing.F) {
	for _, seed := range []string{
		"+CMS ERROR: 38",
		"recipient +79161234567 unreachable",
		"read /dev/ttyUSB2: input/output error",
		"3 consecutive sends to different recipients failed",
		"+CMGS: 17 to 89161234567,+79161234567",
		"IMEI 861234567890123 already used by another modem",
	} {
		f.Add(seed)
	}
	run := regexp.MustCompile(`\d{7,}`)
	f.Fuzz(func(t *testing.T, text string) {
		got := MaskNumbersIn(text)
		if r := run.FindString(got); r != "" {
			t.Fatalf("MaskNumbersIn(%q) = %q still shows %q", text, got, r)
		}
	})
}
