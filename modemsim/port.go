package modemsim

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// port is one pseudo-terminal: the simulator owns the master side, the host
// opens the slave like a USB tty. The simulator keeps the slave open too, so
// the master never sees a hang-up between host sessions.
type port struct {
	master, slave *os.File
	closed        chan struct{} // closed by close()
	once          sync.Once
	out           chan []byte // the modem's output, drained by writeLoop
	baud          int         // output pacing; 0 = none
}

func openPort(baud int) (*port, error) {
	ptmx, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("sim: open pty: %w", err)
	}
	master, err := pollable(ptmx)
	if err != nil {
		slave.Close()
		return nil, err
	}
	// A fresh pty cooks, echoes and maps CR to NL; a modem line does none of
	// that, and hosts that do not set raw mode themselves must see the bytes
	// the modem sent.
	if err := makeRaw(slave); err != nil {
		master.Close()
		slave.Close()
		return nil, err
	}
	return &port{master: master, slave: slave, closed: make(chan struct{}), out: make(chan []byte, 64), baud: baud}, nil
}

// pollable re-opens the master in non-blocking mode on Go's poller, so
// that closing it wakes the reader goroutine and writes can time out; a
// blocking read would pin the goroutine until the host closes its side.
func pollable(f *os.File) (*os.File, error) {
	defer f.Close()
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, fmt.Errorf("sim: dup pty master: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("sim: pty master non-blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

func makeRaw(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("sim: get termios: %w", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("sim: set raw mode: %w", err)
	}
	return nil
}

// slavePath is the /dev/pts name the dev symlink points at.
func (p *port) slavePath() string { return p.slave.Name() }

// write sends bytes to the host, giving up after timeout when nobody drains
// the pty (a closed port on a real modem loses its output too).
func (p *port) write(b []byte, timeout time.Duration) error {
	if err := p.master.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := p.master.Write(b)
	return err
}

func (p *port) close() {
	p.once.Do(func() {
		close(p.closed)
		// Errors from closing our own pty fds carry nothing to act on.
		p.master.Close()
		p.slave.Close()
	})
}
