package bench

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/creack/pty"
	"github.com/gsmbridge/gsmbridge/hw"
	"golang.org/x/sys/unix"
)

// wireTap sits between the daemon and one simulated modem: the daemon opens
// the tap's pty, the tap relays every byte to the modem's port and back, and
// on the way counts the AT commands the daemon sent and how long the modem
// was busy answering them. It observes from outside the daemon, so the
// daemon's own CPU and memory figures stay its own.
type wireTap struct {
	master *os.File // pollable pty master; the daemon opens the slave
	slave  *os.File // held open so the master never sees a hang-up
	modem  io.ReadWriteCloser
	wg     sync.WaitGroup

	mu       sync.Mutex
	counting bool
	commands map[string]int
	busy     time.Duration
	since    time.Time // a command is outstanding since then
	lastDone time.Time // the latest final result
	hostLine []byte
	inPDU    bool      // between AT+CMGS and Ctrl-Z/ESC
	cmgsAt   time.Time // when the AT+CMGS of the PDU being typed came
	cmgs     []time.Time
	modemBuf []byte
}

func newWireTap(modemPath string) (*wireTap, error) {
	ptmx, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("tap: open pty: %w", err)
	}
	// Close on a pollable file wakes a blocked Read; on a blocking one it
	// would not, and close() could not stop the relay.
	fd, err := unix.Dup(int(ptmx.Fd()))
	ptmx.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		slave.Close()
		return nil, fmt.Errorf("tap: pty master: %w", err)
	}
	master := os.NewFile(uintptr(fd), "ptmx")
	if err := rawTTY(slave); err != nil {
		master.Close()
		slave.Close()
		return nil, err
	}
	modem, err := hw.Open(modemPath, hw.PortConfig{Baud: 115200})
	if err != nil {
		master.Close()
		slave.Close()
		return nil, err
	}
	t := &wireTap{master: master, slave: slave, modem: modem, commands: map[string]int{}}
	t.wg.Add(2)
	go func() { defer t.wg.Done(); t.relay(master, modem, t.fromHost) }()
	go func() { defer t.wg.Done(); t.relay(modem, master, t.fromModem) }()
	return t, nil
}

// rawTTY turns off what a fresh pty does to bytes (echo, CR→NL, line
// editing), as a modem's tty does not do it.
func rawTTY(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("tap: get termios: %w", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("tap: set raw mode: %w", err)
	}
	return nil
}

// path is the device the daemon opens instead of the modem's.
func (t *wireTap) path() string { return t.slave.Name() }

func (t *wireTap) relay(from io.Reader, to io.Writer, observe func([]byte, time.Time)) {
	buf := make([]byte, 4096)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			observe(buf[:n], time.Now())
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// fromHost counts command lines; the PDU typed after the AT+CMGS prompt is
// data, not a command.
func (t *wireTap) fromHost(b []byte, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range b {
		if t.inPDU {
			switch c {
			case 0x1a:
				t.inPDU = false
				t.cmgs = append(t.cmgs, t.cmgsAt)
			case 0x1b:
				t.inPDU = false
			}
			continue
		}
		if c != '\r' {
			if c != '\n' && len(t.hostLine) < 4096 {
				t.hostLine = append(t.hostLine, c)
			}
			continue
		}
		line := strings.ToUpper(strings.TrimSpace(string(t.hostLine)))
		t.hostLine = t.hostLine[:0]
		if !strings.HasPrefix(line, "AT") {
			continue
		}
		if strings.HasPrefix(line, "AT+CMGS=") {
			t.inPDU, t.cmgsAt = true, now
		}
		if t.counting {
			t.commands[commandName(line)]++
			if t.since.IsZero() {
				t.since = now
			}
		}
	}
}

// fromModem ends the busy interval at each final result.
func (t *wireTap) fromModem(b []byte, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.modemBuf = append(t.modemBuf, b...)
	for {
		i := bytes.IndexAny(t.modemBuf, "\r\n")
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(t.modemBuf[:i]))
		t.modemBuf = t.modemBuf[i+1:]
		if isFinalResult(line) && !t.since.IsZero() {
			t.busy += now.Sub(t.since)
			t.since, t.lastDone = time.Time{}, now
		}
	}
	if len(t.modemBuf) > 4096 {
		t.modemBuf = t.modemBuf[:0]
	}
}

// isBalanceCheck tells the commands of the daemon's scheduled USSD balance
// check: it runs once per SIM shortly after start-up, whatever the load.
func isBalanceCheck(name string) bool {
	return strings.HasPrefix(name, "AT+CUSD") || name == "AT+CSCS?" || name == "AT+CSCS=" || strings.HasPrefix(name, "AT^USSDMODE")
}

// commandName groups commands by what they do: "AT+CMGS=", "AT+CNMI?",
// "ATE0".
func commandName(line string) string {
	if i := strings.IndexAny(line, "=?"); i >= 0 {
		return line[:i+1]
	}
	return line
}

func isFinalResult(line string) bool {
	switch {
	case line == "OK", line == "ERROR", line == "COMMAND NOT SUPPORT",
		strings.HasPrefix(line, "+CMS ERROR"), strings.HasPrefix(line, "+CME ERROR"):
		return true
	}
	return false
}

// count starts (true) or ends (false) the measured window.
func (t *wireTap) count(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counting = on
	if !on && !t.since.IsZero() {
		t.busy += time.Since(t.since)
		t.since = time.Time{}
	}
}

func (t *wireTap) figures() (time.Duration, map[string]int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.busy, maps.Clone(t.commands)
}

// idleSince reports whether no command is outstanding, and since when.
func (t *wireTap) idleSince() (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastDone, t.since.IsZero()
}

// sendTimes are the moments each AT+CMGS whose PDU was completed reached
// the modem, in order: the k-th belongs to the modem's k-th accepted PDU.
func (t *wireTap) sendTimes() []time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.cmgs)
}

func (t *wireTap) close() {
	t.master.Close()
	t.slave.Close()
	t.modem.Close()
	t.wg.Wait()
}
