package modemsim

import (
	"strings"
	"time"
)

// The AT engine: one reader goroutine per pty feeds bytes in; commands run
// on that goroutine, so a slow command holds back the next like on a modem.

const (
	ctrlZ = 0x1a
	esc   = 0x1b
	// maxLine bounds a command line; longer input is dropped like an overrun.
	maxLine = 2048
	// writeTimeout bounds a write nobody reads (port closed on the host side).
	writeTimeout = time.Second
)

// command is one AT command of a command line, as typed.
type command struct {
	text string   // "+CMGS=23", "E0": for faults, latency and logs
	name string   // upper case: "+CMGS", "E", "^ICCID"
	op   byte     // 0 action, '?' read, 't' test (=?), '=' set
	args []string // set arguments, quotes kept
}

// response is what one command line produces.
type response struct {
	lines  []string
	final  string
	prompt bool // AT+CMGS: "\r\n> " and wait for the PDU
	delay  time.Duration
	after  []func() // run once the final result is on the wire
}

func (r *response) bytes() []byte {
	var b strings.Builder
	if len(r.lines) > 0 {
		b.WriteString("\r\n" + strings.Join(r.lines, "\r\n") + "\r\n")
	}
	switch {
	case r.prompt:
		b.WriteString("\r\n> ")
	case r.final != "":
		b.WriteString("\r\n" + r.final + "\r\n")
	}
	return []byte(b.String())
}

// atEngine is a modem's AT interface: the reader and writer goroutines of
// its pty, the line editor (a command line, or the PDU after AT+CMGS) and
// the queue of answers and unsolicited lines. Its state is guarded by the
// modem's mutex.
type atEngine struct {
	m *Modem

	line []byte
	pdu  *pduEntry
}

func (a *atEngine) readLoop(p *port, done <-chan struct{}) {
	m := a.m
	buf := make([]byte, 512)
	for {
		nr, err := p.master.Read(buf)
		if err != nil {
			return // the port was closed: vanish, replug or Close
		}
		if wait := m.faults.hangLeft(); wait > 0 {
			// A hung modem loses what it is sent and reads nothing more, so
			// the host's writes block once the pty buffer is full.
			select {
			case <-m.n.clock.After(wait):
			case <-done:
				return
			case <-p.closed:
				return
			}
			continue
		}
		a.input(p, buf[:nr])
	}
}

// input runs the bytes through the line editor, echoing and executing.
func (a *atEngine) input(p *port, data []byte) {
	m := a.m
	var echo []byte
	for _, b := range data {
		m.mu.Lock()
		if m.port != p {
			m.mu.Unlock()
			return
		}
		if m.st.echo && b != esc && b != ctrlZ {
			echo = append(echo, b)
		}
		run := a.feed(b)
		m.mu.Unlock()
		if run == nil {
			continue
		}
		if len(echo) > 0 {
			a.send(p, echo)
			echo = nil
		}
		a.finish(p, run)
	}
	if len(echo) > 0 {
		a.send(p, echo)
	}
}

// feed takes one byte; it returns a response once a command line (or a PDU)
// is complete. Called with m.mu held.
func (a *atEngine) feed(b byte) *response {
	m := a.m
	if a.pdu != nil {
		switch b {
		case ctrlZ:
			e := a.pdu
			a.pdu = nil
			return m.submitPDU(e)
		case esc:
			a.pdu = nil
			return &response{final: "OK"}
		}
		if len(a.pdu.hex) < maxLine {
			a.pdu.hex = append(a.pdu.hex, b)
		}
		return nil
	}
	switch b {
	case esc:
		a.line = a.line[:0]
	case '\r':
		line := string(a.line)
		a.line = a.line[:0]
		return m.execute(line)
	case '\n':
	case 0x08, 0x7f:
		if len(a.line) > 0 {
			a.line = a.line[:len(a.line)-1]
		}
	default:
		if len(a.line) < maxLine {
			a.line = append(a.line, b)
		}
	}
	return nil
}

// finish waits out the command's latency, sends the response and runs what
// the command scheduled to happen afterwards.
func (a *atEngine) finish(p *port, r *response) {
	m := a.m
	if r.delay > 0 {
		select {
		case <-m.n.clock.After(r.delay):
		case <-m.n.done:
			return
		case <-p.closed:
			return
		}
	}
	if out := r.bytes(); len(out) > 0 {
		a.send(p, out)
	}
	for _, f := range r.after {
		f()
	}
}

// send queues bytes for the host in order; it blocks only while the
// queue is full, like a modem whose output buffer waits for the host.
func (a *atEngine) send(p *port, b []byte) {
	select {
	case p.out <- b:
	case <-p.closed:
	}
}

// urc queues unsolicited lines unless the modem is hung or unplugged; a
// host that has not drained the queue loses them, as on a real line.
// Called with m.mu held.
func (a *atEngine) urc(lines ...string) {
	m := a.m
	p := m.port
	if p == nil || m.faults.hungTill.After(m.n.clock.Now()) {
		return
	}
	if m.faults.loseURC(lines[0]) {
		m.log.Debug("sim: URC lost, as the fault asked", "urc", lines[0])
		return
	}
	select {
	case p.out <- []byte("\r\n" + strings.Join(lines, "\r\n") + "\r\n"):
	default:
		m.log.Debug("sim: URC dropped, output queue full", "urc", lines[0])
	}
}

// writeLoop owns the pty's output side.
func (a *atEngine) writeLoop(p *port, done <-chan struct{}) {
	for {
		select {
		case b := <-p.out:
			a.write(p, b)
		case <-p.closed:
			return
		case <-done:
			return
		}
	}
}

// write puts bytes on the wire, paced at the configured baud rate.
func (a *atEngine) write(p *port, b []byte) {
	m := a.m
	if p.baud <= 0 {
		if err := p.write(b, writeTimeout); err != nil {
			m.log.Debug("sim: output dropped", "err", err)
		}
		return
	}
	const chunk = 16
	perChunk := time.Duration(chunk*10) * time.Second / time.Duration(p.baud)
	for len(b) > 0 {
		k := min(chunk, len(b))
		if err := p.write(b[:k], writeTimeout); err != nil {
			m.log.Debug("sim: output dropped", "err", err)
			return
		}
		b = b[k:]
		select {
		case <-m.n.clock.After(perChunk):
		case <-p.closed:
			return
		}
	}
}
