package atcmd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// testWait bounds every wait in the tests so that a broken engine fails the
// test instead of hanging it; it is never used to let something happen.
const testWait = 5 * time.Second

// fakeModem is the modem side of an in-process port built from two pipes.
// Everything the engine writes is collected by a goroutine, so engine writes
// never block; the test checks them with expect and answers with send.
type fakeModem struct {
	toEngine   *io.PipeWriter
	fromEngine *io.PipeReader
	port       *pipePort
	written    chan []byte
	pending    []byte
}

type pipePort struct {
	r *io.PipeReader
	w *io.PipeWriter
}

func (p *pipePort) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *pipePort) Write(b []byte) (int, error) { return p.w.Write(b) }

func newFakeModem(t *testing.T) *fakeModem {
	t.Helper()
	er, mw := io.Pipe() // modem → engine
	mr, ew := io.Pipe() // engine → modem
	m := &fakeModem{toEngine: mw, fromEngine: mr, port: &pipePort{r: er, w: ew}, written: make(chan []byte, 64)}
	go func() {
		defer close(m.written)
		for {
			buf := make([]byte, 512)
			n, err := mr.Read(buf)
			if n > 0 {
				m.written <- buf[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(m.unplug)
	return m
}

// unplug closes both directions like a vanished tty.
func (m *fakeModem) unplug() {
	m.toEngine.CloseWithError(io.ErrClosedPipe)
	m.fromEngine.Close()
}

// startEngine runs an engine on m and closes it at the end of the test.
func startEngine(t *testing.T, m *fakeModem, opts Options) *Engine {
	t.Helper()
	e := New(m.port, opts)
	t.Cleanup(func() { e.Close() })
	return e
}

// expect fails the test unless the engine's next written bytes are want.
func (m *fakeModem) expect(t *testing.T, want string) {
	t.Helper()
	deadline := time.NewTimer(testWait)
	defer deadline.Stop()
	for len(m.pending) < len(want) {
		select {
		case p, ok := <-m.written:
			if !ok {
				t.Fatalf("port closed; engine wrote %q, want %q", m.pending, want)
			}
			m.pending = append(m.pending, p...)
		case <-deadline.C:
			t.Fatalf("engine wrote %q, want %q", m.pending, want)
		}
	}
	if got := string(m.pending[:len(want)]); got != want {
		t.Fatalf("engine wrote %q, want %q", got, want)
	}
	m.pending = m.pending[len(want):]
}

// send writes each chunk in its own Write, so each reaches the engine's
// reader as a separate Read.
func (m *fakeModem) send(t *testing.T, chunks ...string) {
	t.Helper()
	for _, c := range chunks {
		if _, err := m.toEngine.Write([]byte(c)); err != nil {
			t.Fatalf("send %q: %v", c, err)
		}
	}
}

type execResult struct {
	lines []string
	err   error
}

// goExec runs Exec (or SendData when data != "") in the background.
func goExec(ctx context.Context, e *Engine, cmd, data string) <-chan execResult {
	ch := make(chan execResult, 1)
	go func() {
		var r execResult
		if data != "" {
			r.lines, r.err = e.SendData(ctx, cmd, data)
		} else {
			r.lines, r.err = e.Exec(ctx, cmd)
		}
		ch <- r
	}()
	return ch
}

func waitResult(t *testing.T, ch <-chan execResult) execResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(testWait):
		t.Fatal("command did not return")
		return execResult{}
	}
}

// run executes cmd against the fake modem: it checks the engine writes the
// command, answers with chunks and returns the outcome.
func run(t *testing.T, e *Engine, m *fakeModem, cmd string, chunks ...string) execResult {
	t.Helper()
	ch := goExec(context.Background(), e, cmd, "")
	m.expect(t, cmd+"\r")
	m.send(t, chunks...)
	return waitResult(t, ch)
}

// sentinel marks the end of a case's indications: the test sends it while
// the engine is idle and collects everything up to it.
const sentinel = "+ZEND"

func collectUntilSentinel(t *testing.T, m *fakeModem, inds <-chan Indication) []Indication {
	t.Helper()
	m.send(t, "\r\n"+sentinel+"\r\n")
	var got []Indication
	deadline := time.NewTimer(testWait)
	defer deadline.Stop()
	for {
		select {
		case ind, ok := <-inds:
			if !ok {
				t.Fatalf("subscription closed after %v", got)
			}
			if ind.Line == sentinel {
				return got
			}
			got = append(got, ind)
		case <-deadline.C:
			t.Fatalf("no sentinel; got %v", got)
		}
	}
}

func indLines(inds []Indication) string {
	var b bytes.Buffer
	for _, ind := range inds {
		b.WriteString(ind.Name + "|" + ind.Line)
		if ind.PDU != "" {
			b.WriteString("|" + ind.PDU)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func wantInds(lines ...string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

func errIs(err error, targets ...error) bool {
	for _, target := range targets {
		if !errors.Is(err, target) {
			return false
		}
	}
	return true
}
