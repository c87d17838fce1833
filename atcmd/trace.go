package atcmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"

	"github.com/gsmbridge/gsmbridge/sms"
)

// NewTrace wraps rw so that every line in both directions is logged at debug
// level, with phone numbers masked and message payloads replaced by their
// length. It is meant to sit between the port and New; Read and Write may
// be called concurrently, one caller each.
func NewTrace(rw io.ReadWriter, log *slog.Logger) io.ReadWriter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &trace{rw: rw, log: log, rx: traceDir{arrow: "<"}, tx: traceDir{arrow: ">"}}
}

type trace struct {
	rw  io.ReadWriter
	log *slog.Logger
	rx  traceDir
	tx  traceDir
}

// traceDir assembles one direction's bytes into lines.
type traceDir struct {
	mu    sync.Mutex
	arrow string
	sp    splitter
	// payloadNext: the previous line was a header whose next line is a PDU
	// or message text.
	payloadNext bool
	// inPayload: a PDU line was just masked; hex lines after it, with only
	// unsolicited lines between, are the rest of a PDU line those cut.
	inPayload bool
	// dataNext: a two-step command was written, so the next write after the
	// prompt is message data.
	dataNext bool
}

func (t *trace) Read(p []byte) (int, error) {
	n, err := t.rw.Read(p)
	if n > 0 && t.log.Enabled(context.Background(), slog.LevelDebug) {
		t.rx.mu.Lock()
		for _, tok := range t.rx.sp.feed(p[:n], nil) {
			t.log.Debug("at", "dir", t.rx.arrow, "line", t.rx.mask(tok))
		}
		t.rx.mu.Unlock()
	}
	return n, err
}

func (t *trace) Write(p []byte) (int, error) {
	if t.log.Enabled(context.Background(), slog.LevelDebug) {
		t.tx.mu.Lock()
		switch {
		case t.tx.dataNext && len(p) > 0 && p[len(p)-1] == 0x1a:
			t.tx.dataNext = false
			t.log.Debug("at", "dir", t.tx.arrow, "line", fmt.Sprintf("<data %d bytes>^Z", len(p)-1))
		case len(p) == 1 && p[0] == 0x1b:
			// ESC also aborts a pending AT+CMGS, so no data follows.
			t.tx.dataNext = false
			t.log.Debug("at", "dir", t.tx.arrow, "line", "<ESC>")
		default:
			for _, tok := range t.tx.sp.feed(p, nil) {
				t.log.Debug("at", "dir", t.tx.arrow, "line", t.tx.mask(tok))
			}
		}
		t.tx.mu.Unlock()
	}
	return t.rw.Write(p)
}

// payloadHeaders are lines whose next line is a PDU (or text in text mode).
var payloadHeaders = []string{"+CMT", "+CDS", "+CMGR", "+CMGL", "+CBM"}

func (d *traceDir) mask(tok token) string {
	if tok.prompt {
		return "> "
	}
	line := tok.line
	if strings.ContainsRune(line, 0x1a) {
		// The modem echoing message data back after the prompt.
		return fmt.Sprintf("<payload %d chars>^Z", len(line)-1)
	}
	if d.payloadNext {
		d.payloadNext, d.inPayload = false, true
		return fmt.Sprintf("<payload %d chars>", len(line))
	}
	name := strings.ToUpper(lineName(line))
	if d.inPayload {
		switch {
		case isHex(line):
			return fmt.Sprintf("<payload %d chars>", len(line))
		case !isURCName(name, nil):
			d.inPayload = false
		}
	}
	for _, h := range payloadHeaders {
		if name == h {
			d.payloadNext = true
		}
	}
	upper := strings.ToUpper(line)
	if strings.HasPrefix(upper, "AT+CMGS=") || strings.HasPrefix(upper, "AT+CMGW=") {
		d.dataNext = true
	}
	if name == "+CUSD" || strings.HasPrefix(upper, "AT+CUSD") {
		line = maskQuoted(line)
	}
	return sms.MaskNumbersIn(line)
}

var quotedRe = regexp.MustCompile(`"[^"]*"`)

func maskQuoted(line string) string {
	return quotedRe.ReplaceAllStringFunc(line, func(q string) string {
		return fmt.Sprintf(`"<%d chars>"`, len(q)-2)
	})
}
