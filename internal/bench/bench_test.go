package bench

import (
	"maps"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/sms"
)

func TestBenchTextIsTracedBackAndHasItsParts(t *testing.T) {
	for _, parts := range []int{1, 2, 5} {
		for _, i := range []int{0, 7, 9999999} {
			text := Text(i, parts)
			if n, _ := sms.Split(text); n != parts {
				t.Errorf("Text(%d, %d) splits into %d parts", i, parts, n)
			}
			if got, ok := index(text); !ok || got != i {
				t.Errorf("index(Text(%d, %d)) = %d, %v", i, parts, got, ok)
			}
		}
	}
	if _, ok := index("Платёж 12"); ok {
		t.Error("index took a text the bench did not write")
	}
}

func TestParseProcFigures(t *testing.T) {
	// A real /proc/<pid>/stat line, with a command name that holds spaces
	// and a parenthesis to show fields are counted from the last ')'.
	stat := "4242 (gsm bridge) x) S 1 4242 4242 0 -1 4194560 1205 0 0 0 137 25 0 0 20 0 9 0 123456 1300000000 6000 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0"
	cpu, err := parseProcCPU(stat)
	if err != nil || cpu != 1620*time.Millisecond {
		t.Errorf("parseProcCPU = %v, %v; want 1.62s", cpu, err)
	}
	if _, err := parseProcCPU("4242 (gsmbridge) S 1 2"); err == nil {
		t.Error("parseProcCPU took a cut-off line")
	}
	status := "Name:\tgsmbridge\nVmPeak:\t 1288000 kB\nVmHWM:\t   23456 kB\nVmRSS:\t   20000 kB\n"
	if kb, err := parseVmHWM(status); err != nil || kb != 23456 {
		t.Errorf("parseVmHWM = %d, %v; want 23456", kb, err)
	}
	if _, err := parseVmHWM("Name:\tgsmbridge\n"); err == nil {
		t.Error("parseVmHWM found a VmHWM that is not there")
	}
}

// TestWireTapCountsCommandsNotPDUs feeds the tap what a daemon and a modem
// say around one send, split at awkward places.
func TestWireTapCountsCommandsNotPDUs(t *testing.T) {
	cases := []struct {
		name string
		host []string // chunks as the daemon writes them
		want map[string]int
	}{
		{"one send", []string{"AT+CMGS=23\r", "0011000B919761032547F90000AA0BC8329BFD06DDDF723619\x1a"}, map[string]int{"AT+CMGS=": 1}},
		{"PDU that looks like a command", []string{"AT+CMGS=5\r", "AT\rAT\r\x1a", "AT+CSQ\r"}, map[string]int{"AT+CMGS=": 1, "AT+CSQ": 1}},
		{"split lines", []string{"AT+C", "NMI?\r", "at+cs", "q\r\n"}, map[string]int{"AT+CNMI?": 1, "AT+CSQ": 1}},
		{"aborted send", []string{"AT+CMGS=5\r", "00\x1b", "ATE0\r"}, map[string]int{"AT+CMGS=": 1, "ATE0": 1}},
		{"noise is no command", []string{"\r\n", "hello\r"}, map[string]int{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tap := &wireTap{commands: map[string]int{}, counting: true}
			now := time.Now()
			for _, chunk := range c.host {
				tap.fromHost([]byte(chunk), now)
			}
			if _, got := tap.figures(); !maps.Equal(got, c.want) {
				t.Errorf("commands %v, want %v", got, c.want)
			}
		})
	}
}

func TestWireTapBusyEndsAtTheFinalResult(t *testing.T) {
	tap := &wireTap{commands: map[string]int{}, counting: true}
	t0 := time.Now()
	tap.fromHost([]byte("AT+CMGS=23\r"), t0)
	tap.fromModem([]byte("\r\n> "), t0.Add(time.Millisecond))
	tap.fromHost([]byte("0011\x1a"), t0.Add(2*time.Millisecond))
	tap.fromModem([]byte("\r\n+CMGS: 7\r\n\r\nO"), t0.Add(400*time.Millisecond))
	tap.fromModem([]byte("K\r\n"), t0.Add(500*time.Millisecond))
	tap.fromModem([]byte("\r\n+CMTI: \"SM\",1\r\n"), t0.Add(900*time.Millisecond)) // idle: not busy
	tap.fromHost([]byte("AT+CSQ\r"), t0.Add(time.Second))
	tap.fromModem([]byte("\r\n+CME ERROR: 10\r\n"), t0.Add(1010*time.Millisecond))
	if busy, _ := tap.figures(); busy != 510*time.Millisecond {
		t.Errorf("busy %v, want 510ms", busy)
	}
}
