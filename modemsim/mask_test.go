package modemsim

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestMaskRulesAgree holds maskNumber to the masking rule of sms: the "number"
// lines of its table (sms.MaskNumber).
func TestMaskRulesAgree(t *testing.T) {
	const path = "../sms/testdata/mask_rules.txt"
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checked := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		kind, rest, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if kind != "number" {
			continue
		}
		in, want := quotedPair(t, path, n, rest)
		if got := maskNumber(in); got != want {
			t.Errorf("%s:%d: maskNumber(%q) = %q, want %q", path, n, in, got, want)
		}
		checked++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if checked < 5 {
		t.Fatalf("%s: %d number cases, too few to be real", path, checked)
	}
}

func quotedPair(t *testing.T, path string, n int, rest string) (a, b string) {
	t.Helper()
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
		t.Fatalf("%s:%d: want 2 quoted strings", path, n)
	}
	return fields[0], fields[1]
}
