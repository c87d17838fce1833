package atcmd

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// A DELIVER of "hellohello" with its SMSC part (8 octets: 07 91 + 6), then a
// TPDU of 28 octets, as +CMGR shows it; tpdu is the same without the SMSC.
const (
	smscAndTPDU = "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
	tpduOnly    = "040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
	tpduOctets  = 28
)

func TestCMGRJoinsAPDULineCutByAnIndication(t *testing.T) {
	header := fmt.Sprintf("+CMGR: 0,,%d", tpduOctets)
	p, q := smscAndTPDU, tpduOnly
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"whole", []string{header, p}, p},
		{"cut after the first digit", []string{header, p[:1], p[1:]}, p},
		{"cut after the SMSC length", []string{header, p[:2], p[2:]}, p},
		{"cut inside the SMSC", []string{header, p[:9], p[9:]}, p},
		{"cut at the SMSC end", []string{header, p[:16], p[16:]}, p},
		{"cut inside the user data", []string{header, p[:60], p[60:]}, p},
		{"cut before the last digit", []string{header, p[:71], p[71:]}, p},
		{"cut twice", []string{header, p[:10], p[10:50], p[50:]}, p},
		{"no SMSC part, whole", []string{header, q}, q},
		{"no SMSC part, cut early", []string{header, q[:1], q[1:]}, q},
		{"no SMSC part, cut late", []string{header, q[:50], q[50:]}, q},
		{"unknown line before the header", []string{"+XYZ: 1", header, p[:30], p[30:]}, p},
		{"unknown line between the pieces", []string{header, p[:30], "+XYZ: 1", p[30:]}, p},
		{"unknown line after the PDU", []string{header, p, "+XYZ: 1"}, p},
		{"hex after a complete PDU is not part of it", []string{header, p, "ABCD"}, p},
		{"a piece that overshoots the length is left", []string{header, p[:40], p[40:] + "00"}, p[:40]},
		{"a missing piece leaves the PDU short", []string{header, p[:40]}, p[:40]},
		{"lower-case hex", []string{header, "07917283010010f5", p[16:]}, "07917283010010f5" + p[16:]},
		{"text mode line taken as is", []string{"+CMGR: 0,,5", "hello"}, "hello"},
		{"no PDU line", []string{header}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, found, err := ParseCMGR(tt.lines)
			if err != nil || !found || m.PDU != tt.want {
				t.Errorf("ParseCMGR(%q) = %q, found %v, %v; want %q", tt.lines, m.PDU, found, err, tt.want)
			}
		})
	}
}

func TestCMGLJoinsEachCutPDUUpToTheNextHeader(t *testing.T) {
	p, q := smscAndTPDU, tpduOnly
	lines := []string{
		"+CMGL: 0,1,,28", p[:30], p[30:],
		"+CMGL: 1,1,,28", q[:5], q[5:],
		"+CMGL: 2,0,,28", p,
		"+CMGL: 3,0,,28", // no PDU line before the next header
		"+CMGL: 4,0,,28", p[:70], "+XYZ: 1", p[70:],
	}
	want := []StoredMessage{
		{Index: 0, Stat: 1, Length: 28, PDU: p},
		{Index: 1, Stat: 1, Length: 28, PDU: q},
		{Index: 2, Stat: 0, Length: 28, PDU: p},
		{Index: 3, Stat: 0, Length: 28},
		{Index: 4, Stat: 0, Length: 28, PDU: p},
	}
	got, err := ParseCMGL(lines)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseCMGL = %+v, %v\nwant %+v", got, err, want)
	}
}

// The engine's part: a status line sent in the middle of the PDU line goes
// to subscribers, and the pieces reach the parser in order.
func TestStatusLineInsideAPDULineOnTheWire(t *testing.T) {
	p := smscAndTPDU
	tests := []struct {
		name   string
		chunks []string
	}{
		{"inside", []string{"\r\n+CMGR: 0,,28\r\n" + p[:30] + "\r\n^RSSI:15\r\n" + p[30:] + "\r\n\r\nOK\r\n"}},
		{"inside, split across reads", []string{"\r\n+CMGR: 0,,28\r\n" + p[:30], "\r\n^RSS", "I:15\r\n", p[30:50], p[50:] + "\r\n\r\nOK\r\n"}},
		{"before the header", []string{"\r\n^RSSI:15\r\n\r\n+CMGR: 0,,28\r\n" + p + "\r\n\r\nOK\r\n"}},
		{"after the PDU", []string{"\r\n+CMGR: 0,,28\r\n" + p + "\r\n\r\n^RSSI:15\r\n\r\nOK\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newFakeModem(t)
			e := startEngine(t, m, Options{})
			inds, cancel := e.Subscribe()
			defer cancel()
			r := run(t, e, m, "AT+CMGR=3", tt.chunks...)
			if r.err != nil {
				t.Fatal(r.err)
			}
			msg, found, err := ParseCMGR(r.lines)
			if err != nil || !found || msg.PDU != p {
				t.Errorf("lines %q parse to %q, found %v, %v; want %q", r.lines, msg.PDU, found, err, p)
			}
			if got, want := indLines(collectUntilSentinel(t, m, inds)), wantInds("^RSSI|^RSSI:15"); got != want {
				t.Errorf("indications:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// Wherever a PDU line is cut, and whatever line that is not hex or a header
// comes between the pieces, the PDU comes back whole.
func FuzzCutPDULineRejoins(f *testing.F) {
	f.Add(uint(30), "^RSSI:15", true)
	f.Add(uint(1), "+CIEV: 2,3", false)
	f.Fuzz(func(t *testing.T, cut uint, between string, withSMSC bool) {
		p := tpduOnly
		if withSMSC {
			p = smscAndTPDU
		}
		k := 1 + int(cut%uint(len(p)-1))
		if between = strings.TrimSpace(between); between == "" || isHex(between) || isHeader(between, "+CMGR") {
			t.Skip()
		}
		lines := []string{fmt.Sprintf("+CMGR: 1,,%d", tpduOctets), p[:k], between, p[k:]}
		if m, found, err := ParseCMGR(lines); err != nil || !found || m.PDU != p {
			t.Fatalf("%q: %q, %v, %v", lines, m.PDU, found, err)
		}
	})
}
