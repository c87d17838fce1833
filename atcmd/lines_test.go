package atcmd

import (
	"reflect"
	"testing"
)

func tokenStrings(toks []token) []string {
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if t.prompt {
			out = append(out, "<prompt>")
			continue
		}
		out = append(out, t.line)
	}
	return out
}

func TestSplitter(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"crlf", "\r\n+CSQ: 17,99\r\n\r\nOK\r\n", []string{"+CSQ: 17,99", "OK"}},
		{"lfcr", "\n\rOK\n\r", []string{"OK"}},
		{"lone cr and lf", "A\rB\nC\r\n", []string{"A", "B", "C"}},
		{"echo", "AT+CSQ\r\r\n+CSQ: 1,2\r\n", []string{"AT+CSQ", "+CSQ: 1,2"}},
		{"prompt", "AT+CMGS=23\r\r\n> ", []string{"AT+CMGS=23", "<prompt>"}},
		{"prompt then echoed data", "\r\n> 0011\x1a\r\n", []string{"<prompt>", "0011\x1a"}},
		{"gt inside a line is text", "\r\nA>B\r\n", []string{"A>B"}},
		{"nul bytes", "\x00\r\nRDY\x00\r\n", []string{"RDY"}},
		{"spaces", "   \r\n  huawei  \r\n", []string{"huawei"}},
		{"unterminated", "OK", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every way of cutting the input into two Reads, and byte by byte,
			// must give the same tokens.
			for cut := 0; cut <= len(tt.in); cut++ {
				var s splitter
				got := s.feed([]byte(tt.in[:cut]), nil)
				got = s.feed([]byte(tt.in[cut:]), got)
				if g := tokenStrings(got); !reflect.DeepEqual(g, tt.want) {
					t.Fatalf("cut at %d: %q, want %q", cut, g, tt.want)
				}
			}
			var s splitter
			var got []token
			for i := range len(tt.in) {
				got = s.feed([]byte{tt.in[i]}, got)
			}
			if g := tokenStrings(got); !reflect.DeepEqual(g, tt.want) {
				t.Fatalf("byte by byte: %q, want %q", g, tt.want)
			}
		})
	}
}

func TestSplitterBoundsLines(t *testing.T) {
	var s splitter
	long := make([]byte, 3*maxLineLen)
	for i := range long {
		long[i] = 'A'
	}
	toks := s.feed(long, nil)
	if len(toks) != 3 || len(toks[0].line) != maxLineLen {
		t.Fatalf("got %d tokens", len(toks))
	}
}
