// Package atcmdtest replays recorded modem conversations for tests: a
// Playback is an io.ReadWriter that checks what the host writes against the
// recording and answers with the recorded modem bytes.
//
// Two file formats are accepted, also mixed in one file:
//
// Capture records, as written by atcmd.NewCapture (the timestamp is ignored):
//
//	+0.012345 > "AT+CSQ\r"
//	+0.020001 < "\r\n+CSQ: 17,99\r\n\r\nOK\r\n"
//
// Script lines, for writing by hand:
//
//	# comment
//	> AT+CSQ            the host writes "AT+CSQ\r"
//	< +CSQ: 17,99       the modem sends "\r\n+CSQ: 17,99\r\n"
//	<< "\r\n> "         the modem sends exactly these (Go-quoted) bytes
//	>> "0011...\x1a"    the host writes exactly these bytes
//
// Each modem step is handed to one Read, so the recorded read boundaries are
// replayed too.
package atcmdtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Step is one recorded exchange.
type Step struct {
	Write bool   // true: the host writes Data; false: the modem sends Data
	Data  []byte // never empty
	Line  int    // line in the source, for messages
}

func (s Step) String() string {
	dir := "modem sends"
	if s.Write {
		dir = "host writes"
	}
	return fmt.Sprintf("line %d: %s %q", s.Line, dir, s.Data)
}

// ParseScript reads capture records and script lines (see the package
// documentation) into steps.
func ParseScript(r io.Reader) ([]Step, error) {
	var steps []Step
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		st, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("atcmdtest: line %d: %w", n, err)
		}
		st.Line = n
		if len(st.Data) > 0 {
			steps = append(steps, st)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("atcmdtest: %w", err)
	}
	return steps, nil
}

func parseLine(line string) (Step, error) {
	if strings.HasPrefix(line, "+") {
		// Capture record: "+<seconds> <dir> <quoted>".
		_, rest, ok := strings.Cut(line, " ")
		if !ok || len(rest) < 3 || (rest[0] != '<' && rest[0] != '>') || rest[1] != ' ' {
			return Step{}, errors.New("malformed capture record")
		}
		data, err := strconv.Unquote(strings.TrimSpace(rest[2:]))
		if err != nil {
			return Step{}, fmt.Errorf("capture bytes: %w", err)
		}
		return Step{Write: rest[0] == '>', Data: []byte(data)}, nil
	}
	switch {
	case strings.HasPrefix(line, ">>"), strings.HasPrefix(line, "<<"):
		data, err := strconv.Unquote(strings.TrimSpace(line[2:]))
		if err != nil {
			return Step{}, fmt.Errorf("raw bytes: %w", err)
		}
		return Step{Write: line[0] == '>', Data: []byte(data)}, nil
	case strings.HasPrefix(line, "> "):
		return Step{Write: true, Data: []byte(line[2:] + "\r")}, nil
	case strings.HasPrefix(line, "< "):
		return Step{Data: []byte("\r\n" + line[2:] + "\r\n")}, nil
	}
	return Step{}, fmt.Errorf("want '> ', '< ', '>>', '<<', '#' or a capture record, got %q", line)
}

// Playback replays steps. Read blocks until the next step is a modem step;
// Write blocks until the modem steps recorded before it were read, then
// must match the recorded host bytes exactly (split over Writes as the host
// likes). A mismatch fails the test with both byte strings and makes every
// later Read and Write fail. Safe for one reader and one writer at a time.
type Playback struct {
	t     testing.TB
	mu    sync.Mutex
	cond  *sync.Cond
	steps []Step
	idx   int // next step
	off   int // bytes of steps[idx] already played
	// closed: Close was called; broken: a mismatch was reported.
	closed, broken bool
}

var errPlayback = errors.New("atcmdtest: playback stopped")

// NewPlayback replays steps, reporting mismatches to t.
func NewPlayback(t testing.TB, steps []Step) *Playback {
	p := &Playback{t: t, steps: steps}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// Load parses the script or capture at path and replays it.
func Load(t testing.TB, path string) *Playback {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("atcmdtest: %v", err)
	}
	defer f.Close()
	steps, err := ParseScript(f)
	if err != nil {
		t.Fatalf("atcmdtest: %s: %v", path, err)
	}
	return NewPlayback(t, steps)
}

func (p *Playback) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.closed && !p.broken && (p.idx >= len(p.steps) || p.steps[p.idx].Write) {
		p.cond.Wait()
	}
	if p.closed || p.broken {
		return 0, io.EOF
	}
	st := p.steps[p.idx]
	n := copy(b, st.Data[p.off:])
	p.advance(n)
	return n, nil
}

func (p *Playback) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.closed && !p.broken && p.idx < len(p.steps) && !p.steps[p.idx].Write {
		p.cond.Wait()
	}
	if p.closed || p.broken {
		return 0, errPlayback
	}
	for done := 0; done < len(b); {
		if p.idx >= len(p.steps) || !p.steps[p.idx].Write {
			p.fail("host wrote %q after the recorded writes, next: %s", b[done:], p.next())
			return done, errPlayback
		}
		st := p.steps[p.idx]
		want := st.Data[p.off:]
		got := b[done:min(len(b), done+len(want))]
		if !bytes.Equal(got, want[:len(got)]) {
			at := 0
			for at < len(got) && got[at] == want[at] {
				at++
			}
			p.fail("line %d: host wrote %q, recorded %q (first difference at byte %d)", st.Line, got, want[:len(got)], at)
			return done, errPlayback
		}
		done += len(got)
		p.advance(len(got))
	}
	return len(b), nil
}

// advance marks n more bytes of the current step played; called with mu held.
func (p *Playback) advance(n int) {
	p.off += n
	if p.off == len(p.steps[p.idx].Data) {
		p.idx++
		p.off = 0
	}
	p.cond.Broadcast()
}

func (p *Playback) fail(format string, args ...any) {
	p.broken = true
	p.t.Errorf("atcmdtest: "+format, args...)
	p.cond.Broadcast()
}

func (p *Playback) next() string {
	if p.idx >= len(p.steps) {
		return "end of recording"
	}
	return p.steps[p.idx].String()
}

// Close ends the playback like an unplugged port: blocked and later Reads
// return io.EOF, Writes fail. It returns an error naming the first step that
// was not played, if any.
func (p *Playback) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.cond.Broadcast()
	if p.idx < len(p.steps) {
		return fmt.Errorf("atcmdtest: %d steps not played, next: %s", len(p.steps)-p.idx, p.next())
	}
	return nil
}

// Finish closes the playback and fails t unless every step was played.
func (p *Playback) Finish(t testing.TB) {
	t.Helper()
	if err := p.Close(); err != nil {
		t.Error(err)
	}
}
