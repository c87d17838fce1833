package atcmd

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// CaptureHeader is the first line of a capture file.
const CaptureHeader = "# gsmbridge atcmd capture v1"

// NewCapture wraps rw so that the exact bytes of every Read and Write are
// recorded to w, one record per call:
//
//	+0.012345 < "\r\nOK\r\n"
//	+0.020001 > "AT+CSQ\r"
//
// The number is seconds since the capture started, '<' is modem to host,
// '>' host to modem, and the bytes are a Go-quoted string. Lines starting
// with '#' are comments. Captures hold message texts and numbers unmasked:
// store them like secrets (see CreateCaptureFile). Recording stops at the
// first error writing to w, so a full disk never disturbs the modem I/O.
func NewCapture(rw io.ReadWriter, w io.Writer, clock func() time.Time) io.ReadWriter {
	if clock == nil {
		clock = time.Now
	}
	c := &capture{rw: rw, w: w, clock: clock, start: clock()}
	return c
}

type capture struct {
	rw    io.ReadWriter
	clock func() time.Time
	start time.Time

	mu     sync.Mutex
	w      io.Writer
	failed bool
}

func (c *capture) Read(p []byte) (int, error) {
	n, err := c.rw.Read(p)
	if n > 0 {
		c.record('<', p[:n])
	}
	return n, err
}

func (c *capture) Write(p []byte) (int, error) {
	n, err := c.rw.Write(p)
	if n > 0 {
		c.record('>', p[:n])
	}
	return n, err
}

func (c *capture) record(dir byte, p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failed {
		return
	}
	d := c.clock().Sub(c.start).Seconds()
	if _, err := fmt.Fprintf(c.w, "+%.6f %c %s\n", d, dir, strconv.Quote(string(p))); err != nil {
		c.failed = true
	}
}

// CreateCaptureFile creates (or truncates) a capture file readable only by
// its owner, because captures hold message texts and numbers, and writes
// the header line.
func CreateCaptureFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("atcmd: create capture: %w", err)
	}
	// An existing file keeps its old mode on open.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("atcmd: create capture: %w", err)
	}
	if _, err := fmt.Fprintln(f, CaptureHeader); err != nil {
		f.Close()
		return nil, fmt.Errorf("atcmd: create capture: %w", err)
	}
	return f, nil
}
