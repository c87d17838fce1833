package atcmd

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/atcmd/atcmdtest"
	"github.com/gsmbridge/gsmbridge/sms"
)

// The trace hides numbers by the one rule of sms: these are the lines an AT
// trace carries them in.
func TestTraceMasksNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+79161234567", "+7916****67"},
		{`+CMT: "+79161234567","","24/11/25,10:00:00+12"`, `+CMT: "+7916****67","","24/11/25,10:00:00+12"`},
		{"ATD89161234567;", "ATD8916****67;"},
		{"1234567", "1****67"},
		{"123456", "123456"},
		{"+CSQ: 17,99", "+CSQ: 17,99"},
		{"250011234567890", "2500****90"},
	}
	for _, tt := range tests {
		if got := sms.MaskNumbersIn(tt.in); got != tt.want {
			t.Errorf("MaskNumbersIn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// scriptedRW reads from a fixed modem output and records writes.
type scriptedRW struct {
	r io.Reader
	w bytes.Buffer
}

func (s *scriptedRW) Read(p []byte) (int, error)  { return s.r.Read(p) }
func (s *scriptedRW) Write(p []byte) (int, error) { return s.w.Write(p) }

func TestTraceMasksSecrets(t *testing.T) {
	const pdu = "0011000B919761234567F70000AA0AE8329BFD4697D9EC37"
	modem := "\r\n+CMT: \"\",24\r\n07919761989901F0040B919761234567F7000012\r\n" +
		"\r\n+CUSD: 0,\"Balance 151,25 rub. Call +79161234567\",15\r\n" +
		"\r\n> " + pdu + "\x1a\r\n+CMGS: 12\r\n\r\nOK\r\n" +
		"\r\n+CLIP: \"+79161234567\",145\r\n" +
		"\r\n+CMGR: 0,,24\r\n07919761989901F0\r\n^RSSI:15\r\n040B919761234567F7000012\r\n\r\nOK\r\n"
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rw := &scriptedRW{r: strings.NewReader(modem)}
	tr := NewTrace(rw, log)
	if _, err := io.ReadAll(tr); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"AT+CUSD=1,\"*100#\",15\r", "AT+CMGS=23\r", pdu + "\x1a", "\x1b", "AT+CSCS?\r"} {
		if _, err := tr.Write([]byte(w)); err != nil {
			t.Fatal(err)
		}
	}
	out := logBuf.String()
	for _, secret := range []string{"79161234567", "Balance", "*100#", "07919761989901", pdu[:20], "040B9197"} {
		if strings.Contains(out, secret) {
			t.Errorf("trace leaks %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`line="+CMT: \"\",24"`, `line="<payload 40 chars>"`, `+CUSD: 0,\"<37 chars>\",15`,
		`line="<payload 48 chars>^Z"`, `line="+CMGS: 12"`, `+CLIP: \"+7916****67\",145`,
		`line="<payload 16 chars>"`, `line=^RSSI:15`, `line="<payload 24 chars>"`,
		`dir=> line="AT+CMGS=23"`, `dir=> line="<data 48 bytes>^Z"`, `dir=> line=<ESC>`, `AT+CUSD=1,\"<5 chars>\",15`, "dir=> line=AT+CSCS?\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %s:\n%s", want, out)
		}
	}
	if rw.w.String() != "AT+CUSD=1,\"*100#\",15\rAT+CMGS=23\r"+pdu+"\x1a\x1bAT+CSCS?\r" {
		t.Errorf("trace changed the bytes written: %q", rw.w.String())
	}
}

func TestCaptureRoundTrip(t *testing.T) {
	start := time.Date(2025, 11, 25, 10, 0, 0, 0, time.UTC)
	tick := 0
	clock := func() time.Time {
		defer func() { tick++ }()
		return start.Add(time.Duration(tick) * 12345 * time.Microsecond)
	}
	rw := &scriptedRW{r: strings.NewReader("\r\n+CSQ: 17,99\r\n\r\nOK\r\n")}
	var out bytes.Buffer
	c := NewCapture(rw, &out, clock)
	if _, err := c.Write([]byte("AT+CSQ\r")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(c); err != nil {
		t.Fatal(err)
	}
	want := "+0.012345 > \"AT+CSQ\\r\"\n+0.024690 < \"\\r\\n+CSQ: 17,99\\r\\n\\r\\nOK\\r\\n\"\n"
	if out.String() != want {
		t.Fatalf("capture:\n%s\nwant:\n%s", out.String(), want)
	}
	// A capture is a playback script as it stands.
	p := atcmdtest.NewPlayback(t, mustParse(t, CaptureHeader+"\n"+out.String()))
	e := New(p, Options{})
	defer p.Close()
	defer e.Close()
	lines, err := e.Exec(t.Context(), "AT+CSQ")
	if err != nil || len(lines) != 1 || lines[0] != "+CSQ: 17,99" {
		t.Fatalf("replayed capture: %q, %v", lines, err)
	}
	p.Finish(t)
}

func mustParse(t *testing.T, src string) []atcmdtest.Step {
	t.Helper()
	steps, err := atcmdtest.ParseScript(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	return steps
}

func TestCreateCaptureFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "modem.cap")
	if err := os.WriteFile(path, []byte("old secrets"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := CreateCaptureFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(path); string(b) != CaptureHeader+"\n" {
		t.Errorf("content %q", b)
	}
}
