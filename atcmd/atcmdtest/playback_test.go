package atcmdtest

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestParseScript(t *testing.T) {
	src := `# gsmbridge atcmd capture v1
+0.000000 > "AT+CSQ\r"
+0.012345 < "\r\n+CSQ: 17,99\r\n\r\nOK\r\n"

# hand-written part
> AT+CMGS=23
<< "\r\n> "
>> "0011\x1a"
< +CMGS: 12
< OK
`
	steps, err := ParseScript(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{
		{Write: true, Data: []byte("AT+CSQ\r"), Line: 2},
		{Data: []byte("\r\n+CSQ: 17,99\r\n\r\nOK\r\n"), Line: 3},
		{Write: true, Data: []byte("AT+CMGS=23\r"), Line: 6},
		{Data: []byte("\r\n> "), Line: 7},
		{Write: true, Data: []byte("0011\x1a"), Line: 8},
		{Data: []byte("\r\n+CMGS: 12\r\n"), Line: 9},
		{Data: []byte("\r\nOK\r\n"), Line: 10},
	}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("got %v\nwant %v", steps, want)
	}
	for _, bad := range []string{"AT+CSQ", "+0.1 ? \"x\"", `<< "unterminated`, "+0.1 < x"} {
		if _, err := ParseScript(strings.NewReader(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// recordingTB collects reported errors instead of failing the real test.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func steps(t *testing.T, src string) []Step {
	t.Helper()
	s, err := ParseScript(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPlaybackReplays(t *testing.T) {
	p := NewPlayback(t, steps(t, "< RDY\n> AT\n< OK\n"))
	buf := make([]byte, 64)
	n, err := p.Read(buf)
	if err != nil || string(buf[:n]) != "\r\nRDY\r\n" {
		t.Fatalf("first read %q, %v", buf[:n], err)
	}
	// The host may split its write.
	if _, err := p.Write([]byte("A")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write([]byte("T\r")); err != nil {
		t.Fatal(err)
	}
	n, err = p.Read(buf)
	if err != nil || string(buf[:n]) != "\r\nOK\r\n" {
		t.Fatalf("second read %q, %v", buf[:n], err)
	}
	p.Finish(t)
	if _, err := p.Read(buf); !errors.Is(err, io.EOF) {
		t.Errorf("read after Finish: %v", err)
	}
}

func TestPlaybackReportsMismatch(t *testing.T) {
	rec := &recordingTB{TB: t}
	p := NewPlayback(rec, steps(t, "> AT+CSQ\n< OK\n"))
	if _, err := p.Write([]byte("AT+CSS\r")); err == nil {
		t.Error("mismatching write accepted")
	}
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], `host wrote "AT+CSS\r", recorded "AT+CSQ\r" (first difference at byte 5)`) {
		t.Errorf("errors %q", rec.errs)
	}
	if _, err := p.Read(make([]byte, 8)); !errors.Is(err, io.EOF) {
		t.Errorf("read after mismatch: %v", err)
	}
}

func TestPlaybackReportsUnexpectedWrite(t *testing.T) {
	rec := &recordingTB{TB: t}
	p := NewPlayback(rec, steps(t, "> AT\n"))
	if _, err := p.Write([]byte("AT\rAT\r")); err == nil {
		t.Error("extra bytes accepted")
	}
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "after the recorded writes") {
		t.Errorf("errors %q", rec.errs)
	}
}

func TestFinishReportsUnplayedSteps(t *testing.T) {
	rec := &recordingTB{TB: t}
	p := NewPlayback(rec, steps(t, "> AT\n< OK\n"))
	p.Write([]byte("AT\r"))
	p.Finish(rec)
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], `1 steps not played, next: line 2: modem sends "\r\nOK\r\n"`) {
		t.Errorf("errors %q", rec.errs)
	}
}

func TestWriteWaitsForEarlierModemOutput(t *testing.T) {
	p := NewPlayback(t, steps(t, "< +CMTI: \"SM\",1\n> AT\n< OK\n"))
	wrote := make(chan error, 1)
	go func() {
		_, err := p.Write([]byte("AT\r"))
		wrote <- err
	}()
	buf := make([]byte, 64)
	n, _ := p.Read(buf)
	if got := string(buf[:n]); got != "\r\n+CMTI: \"SM\",1\r\n" {
		t.Fatalf("read %q", got)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	n, _ = p.Read(buf)
	if string(buf[:n]) != "\r\nOK\r\n" {
		t.Fatalf("read %q", buf[:n])
	}
	p.Finish(t)
}
