package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestCleanCell(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"", 10, "-"},
		{"Да", 10, "Да"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven runs", 10, "eleven ru…"},
		{"Съешь же ещё этих", 8, "Съешь ж…"},
		{"line\r\nnext\tcol", 0, "line  next col"},
		{"red \x1b[31malert\x1b[0m", 0, "red \uFFFD[31malert\uFFFD[0m"},
		{"bell\a and \u0085 C1", 0, "bell\uFFFD and \uFFFD C1"},
		{"pay \u202eevil\u202c", 0, "pay \uFFFDevil\uFFFD"},
		{"x", 1, "x"},
		{"xy", 1, "…"},
	}
	for _, tt := range tests {
		if got := cleanCell(tt.in, tt.max); got != tt.want {
			t.Errorf("cleanCell(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestTableAligns(t *testing.T) {
	tb := newTable(column{"ID", 0}, column{"FROM", 0}, column{"TEXT", 12})
	tb.add("7", "+79161234567", "Подтверждаю платёж")
	tb.add("1234", "", "ok")
	var b bytes.Buffer
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"ID    FROM          TEXT\n" +
		"7     +79161234567  Подтверждаю…\n" +
		"1234  -             ok\n"
	if b.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFixedTableKeepsColumnsAcrossWrites(t *testing.T) {
	tb := newTable(column{"ID", 4}, column{"FROM", 6}, column{"TEXT", 8})
	var b bytes.Buffer
	if err := tb.writeFixed(&b, true); err != nil {
		t.Fatal(err)
	}
	tb.add("1", "+7916123", "Да")
	if err := tb.writeFixed(&b, false); err != nil {
		t.Fatal(err)
	}
	tb.add("22", "900", "Баланс 151,25 руб.")
	if err := tb.writeFixed(&b, false); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"ID   FROM   TEXT\n" +
		"1    +7916… Да\n" +
		"22   900    Баланс …\n"
	if b.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestParseArgsTakesFlagsAnywhere(t *testing.T) {
	tests := []struct {
		args      []string
		wantPos   []string
		wantWait  bool
		wantModem string
		wantErr   string
	}{
		{args: []string{"+7916", "hi"}, wantPos: []string{"+7916", "hi"}},
		{args: []string{"--wait", "+7916", "hi"}, wantPos: []string{"+7916", "hi"}, wantWait: true},
		{args: []string{"+7916", "--modem", "m1", "hi", "--wait"}, wantPos: []string{"+7916", "hi"}, wantWait: true, wantModem: "m1"},
		{args: []string{"+7916", "--", "-5 rub", "--wait"}, wantPos: []string{"+7916", "-5 rub", "--wait"}},
		{args: []string{"+7916", "hi", "--modem"}, wantErr: "flag needs an argument: -modem"},
		{args: []string{"+7916", "-x"}, wantErr: "flag provided but not defined: -x"},
	}
	for _, tt := range tests {
		fs := newFlagSet("t", io.Discard, help{})
		wait := fs.Bool("wait", false, "")
		modem := fs.String("modem", "", "")
		pos, err := parseArgs(fs, tt.args)
		var u usageError
		if tt.wantErr != "" {
			if !errors.As(err, &u) || err.Error() != tt.wantErr {
				t.Errorf("%q: err %v, want usage error %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(pos, "|") != strings.Join(tt.wantPos, "|") || *wait != tt.wantWait || *modem != tt.wantModem {
			t.Errorf("%q: %q wait=%v modem=%q err=%v; want %q %v %q", tt.args, pos, *wait, *modem, err, tt.wantPos, tt.wantWait, tt.wantModem)
		}
	}
	fs := newFlagSet("t", io.Discard, help{})
	if _, err := parseArgs(fs, []string{"x", "-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp so that run exits 0", err)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	local := func(s string) string {
		tm, _ := time.ParseInLocation("2006-01-02 15:04:05", s, time.Local)
		return tm.UTC().Format(time.RFC3339)
	}
	tests := []struct{ in, want, wantErr string }{
		{in: "", want: ""},
		{in: "2h", want: "2026-11-25T08:00:00Z"},
		{in: "90s", want: "2026-11-25T09:58:30Z"},
		{in: "2026-11-25T10:00:00+03:00", want: "2026-11-25T07:00:00Z"},
		{in: "2026-11-24", want: local("2026-11-24 00:00:00")},
		{in: "2026-11-24 17:30", want: local("2026-11-24 17:30:00")},
		{in: "yesterday", wantErr: `--since "yesterday": want a time such as 2026-11-25T10:00:00Z, 2026-11-25 10:00, 2026-11-25, or a duration ago such as 2h`},
		{in: "-2h", wantErr: `--since "-2h": want`},
	}
	for _, tt := range tests {
		got, err := parseSince(tt.in, now)
		var u usageError
		if tt.wantErr != "" {
			if !errors.As(err, &u) || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("parseSince(%q) err %v, want usage error %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseSince(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestHashToken(t *testing.T) {
	// The hashes were computed independently: printf %s TOKEN | sha256sum.
	const long = "0f3c9a1e7b6d4c2a9e8f7a6b5c4d3e2f"
	const longHash = "sha256:655502b835551d791c898a5f77bdedf9d4d6945411d3d02bd60852e8e597e8a2\n"
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantOut    string
		wantStderr string
		wantErr    string
	}{
		{name: "as an argument", args: []string{long}, wantOut: longHash},
		{name: "from stdin with its line end", stdin: long + "\r\n", wantOut: longHash},
		{name: "from stdin without a line end", stdin: long, wantOut: longHash},
		{name: "only the first line of stdin", stdin: long + "\nsecond\n", wantOut: longHash},
		{name: "a short one works but warns", args: []string{"short"},
			wantOut:    "sha256:f9b0078b5df596d2ea19010c001bbd009e651de2c57e8fb7e355f31eb9d3f739\n",
			wantStderr: "warning: a token of 5 characters can be guessed; prefer a random one: openssl rand -hex 32\n"},
		{name: "empty stdin", stdin: "", wantErr: "the token is empty"},
		{name: "white space around it", args: []string{" " + long}, wantErr: "the token starts or ends with white space; clients would have to send it too"},
		{name: "two tokens", args: []string{long, long}, wantErr: "give one token, or none to read it from stdin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := hashToken(tt.args, strings.NewReader(tt.stdin), &out, &errOut)
			var u usageError
			if tt.wantErr != "" && (!errors.As(err, &u) || err.Error() != tt.wantErr) || tt.wantErr == "" && err != nil {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			if out.String() != tt.wantOut || errOut.String() != tt.wantStderr {
				t.Fatalf("stdout %q, stderr %q; want %q, %q", out.String(), errOut.String(), tt.wantOut, tt.wantStderr)
			}
		})
	}
}

// FuzzCleanCell: whatever a stranger's SMS holds, a cell is valid UTF-8,
// holds no character that steers the terminal, and keeps to its width.
func FuzzCleanCell(f *testing.F) {
	for _, s := range []string{"", "Да", "Баланс: 151,25 руб.\r\n", "\x1b]0;title\a", "\xff\xfe", "pay \u202eevil", "\u0085\u009b31m"} {
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 100
		if max < 0 {
			max = -max
		}
		got := cleanCell(s, max)
		if !utf8.ValidString(got) {
			t.Fatalf("cleanCell(%q) = %q: not UTF-8", s, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || isBidiControl(r) {
				t.Fatalf("cleanCell(%q) = %q keeps %U", s, got, r)
			}
		}
		if n := utf8.RuneCountInString(got); got == "" || max > 0 && n > max {
			t.Fatalf("cleanCell(%q, %d) = %q: %d runes", s, max, got, n)
		}
	})
}
