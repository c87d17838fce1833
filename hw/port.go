package hw

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// ErrPortLost reports that the port went away under us: the USB modem was
// unplugged or reset (EIO, hang-up) or the other end of a pty closed. The
// port is useless afterwards; reopen it, probably under another name.
var ErrPortLost = errors.New("serial port lost")

// ErrPortBusy reports that another process holds the port exclusively.
var ErrPortBusy = errors.New("serial port busy")

// DefaultBaud is the line speed used when PortConfig.Baud is zero. USB
// modems ignore it, but real UARTs (SIM800 boards on a USB-serial adapter)
// autobaud up to it.
const DefaultBaud = 115200

// PortConfig is how Open sets the line up. The frame is always 8N1.
type PortConfig struct {
	Baud int // 0 means DefaultBaud
	// DTR and RTS are set only when non-nil: the ioctls fail on a pty, and
	// some modems hang up when DTR drops.
	DTR, RTS *bool
}

// Port is an open serial port. Read, Write and Close may be called from
// different goroutines; Close unblocks a pending Read or Write.
type Port struct {
	path string
	// file is a duplicate of the library's descriptor registered with the
	// runtime poller: Close can then interrupt a blocked Write, the
	// descriptor number cannot be reused under a pending Read, and no
	// select(2) FdSet limits the descriptor number.
	file *os.File
	// lib still owns the original descriptor and the exclusive lock.
	lib serial.Port

	closeOnce sync.Once
	closeErr  error
}

var _ io.ReadWriteCloser = (*Port)(nil)

// Open opens the serial port at path (a tty, any symlink to one, or a pty
// slave), raw 8N1 at cfg.Baud, exclusive against other non-root openers,
// without a read timeout. Errors name the path and wrap the cause; a port
// held by someone else wraps ErrPortBusy.
func Open(path string, cfg PortConfig) (*Port, error) {
	baud := cfg.Baud
	if baud == 0 {
		baud = DefaultBaud
	}
	if baud < 0 {
		return nil, fmt.Errorf("hw: open %s: invalid baud rate %d", path, baud)
	}
	mode := &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}

	// The library opens without O_CLOEXEC; holding ForkLock until the flag is
	// set keeps a concurrent os/exec child (usb_modeswitch, say) from
	// inheriting the port and holding it open after we close it.
	syscall.ForkLock.RLock()
	lib, err := serial.Open(path, mode)
	var fds []int
	if err == nil {
		if fds, err = libraryDescriptors(lib); err != nil {
			lib.Close()
		}
		for _, fd := range fds {
			unix.CloseOnExec(fd)
		}
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, openError(path, err)
	}
	if err := checkDescriptors(fds); err != nil {
		lib.Close()
		return nil, fmt.Errorf("hw: open %s: %w", path, err)
	}

	if err := setModemBits(lib, cfg); err != nil {
		lib.Close()
		return nil, fmt.Errorf("hw: open %s: %w", path, err)
	}

	file, err := pollableDup(fds[0], path)
	if err != nil {
		lib.Close()
		return nil, fmt.Errorf("hw: open %s: %w", path, err)
	}
	return &Port{path: path, file: file, lib: lib}, nil
}

func openError(path string, err error) error {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.PortBusy:
			return fmt.Errorf("hw: open %s: %w: %w", path, ErrPortBusy, err)
		case serial.PermissionDenied:
			return fmt.Errorf("hw: open %s: %w: %w", path, os.ErrPermission, err)
		}
	}
	return fmt.Errorf("hw: open %s: %w", path, err)
}

func setModemBits(lib serial.Port, cfg PortConfig) error {
	if cfg.DTR != nil {
		if err := lib.SetDTR(*cfg.DTR); err != nil {
			return fmt.Errorf("set DTR=%t: %w", *cfg.DTR, err)
		}
	}
	if cfg.RTS != nil {
		if err := lib.SetRTS(*cfg.RTS); err != nil {
			return fmt.Errorf("set RTS=%t: %w", *cfg.RTS, err)
		}
	}
	return nil
}

// pollableDup duplicates fd close-on-exec and in non-blocking mode, which
// os.NewFile takes as the cue to use the runtime poller. O_NONBLOCK lives on
// the shared open file description, so the library's descriptor turns
// non-blocking too; it is only used for ioctls from here on.
func pollableDup(fd int, path string) (*os.File, error) {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup descriptor: %w", err)
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, fmt.Errorf("set non-blocking: %w", err)
	}
	return os.NewFile(uintptr(dup), path), nil
}

// Path is the name the port was opened by.
func (p *Port) Path() string { return p.path }

// Read reads what the modem sent, blocking until at least one byte arrives.
// When the port vanishes the error wraps ErrPortLost; after Close it wraps
// os.ErrClosed; after a read deadline, os.ErrDeadlineExceeded.
func (p *Port) Read(b []byte) (int, error) {
	n, err := p.file.Read(b)
	if err != nil {
		return n, p.ioError("read", err)
	}
	return n, nil
}

// Write sends b to the modem. Errors are classified as for Read.
func (p *Port) Write(b []byte) (int, error) {
	n, err := p.file.Write(b)
	if err != nil {
		return n, p.ioError("write", err)
	}
	return n, nil
}

// SetReadDeadline makes a pending and future Read fail with
// os.ErrDeadlineExceeded at t; the zero time means no deadline.
func (p *Port) SetReadDeadline(t time.Time) error {
	if err := p.file.SetReadDeadline(t); err != nil {
		return fmt.Errorf("hw: %s: %w", p.path, err)
	}
	return nil
}

// SetWriteDeadline bounds Write the same way: a wedged USB-serial driver can
// otherwise block a write forever.
func (p *Port) SetWriteDeadline(t time.Time) error {
	if err := p.file.SetWriteDeadline(t); err != nil {
		return fmt.Errorf("hw: %s: %w", p.path, err)
	}
	return nil
}

func (p *Port) ioError(op string, err error) error {
	if errors.Is(err, os.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("hw: %s %s: %w", op, p.path, err)
	}
	return fmt.Errorf("hw: %s %s: %w: %w", op, p.path, ErrPortLost, err)
}

// Close releases the port, unblocking any pending Read or Write. Calling it
// again does nothing and returns the first call's result.
func (p *Port) Close() error {
	p.closeOnce.Do(func() {
		err := p.file.Close()
		if libErr := p.lib.Close(); err == nil {
			err = libErr
		}
		if err != nil {
			p.closeErr = fmt.Errorf("hw: close %s: %w", p.path, err)
		}
	})
	return p.closeErr
}
