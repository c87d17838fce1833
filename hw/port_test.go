package hw

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"go.bug.st/serial"
)

// openPty returns the master of a fresh pty and the slave's path. The
// slave descriptor pty.Open hands back is closed at once so that only the
// code under test holds the slave.
func openPty(t *testing.T) (*os.File, string) {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	path := slave.Name()
	slave.Close()
	t.Cleanup(func() { master.Close() })
	return master, path
}

func openTestPort(t *testing.T, path string, cfg PortConfig) *Port {
	t.Helper()
	p, err := Open(path, cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// waitErr waits for a goroutine's error, failing the test if it takes
// longer than a USB hang-up ever should.
func waitErr(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not return", what)
		return nil
	}
}

func TestPortPassesBytesRaw(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"command", []byte("AT+CGSN\r")},
		{"response lines", []byte("\r\n+CSQ: 17,99\r\n\r\nOK\r\n")},
		{"prompt without line end", []byte("\r\n> ")},
		{"ctrl-z and escape", []byte("0791\x1a\x1b")},
		{"binary", []byte{0x00, 0x03, 0x04, 0x11, 0x13, 0x7f, 0xff, '\n'}},
	}
	master, path := openPty(t)
	p := openTestPort(t, path, PortConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := master.Write(tt.data); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(tt.data))
			if _, err := io.ReadFull(p, got); err != nil {
				t.Fatalf("read through port: %v", err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Errorf("port read %q, modem sent %q", got, tt.data)
			}

			if _, err := p.Write(tt.data); err != nil {
				t.Fatalf("write through port: %v", err)
			}
			// Nothing but the written bytes may reach the modem: an echo of
			// what it sent or a CR turned into NL would show up here.
			got = make([]byte, len(tt.data))
			if _, err := io.ReadFull(master, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Errorf("modem got %q, port wrote %q", got, tt.data)
			}
		})
	}
}

func TestReadReportsPortLost(t *testing.T) {
	master, path := openPty(t)
	p := openTestPort(t, path, PortConfig{})
	done := make(chan error, 1)
	go func() {
		_, err := p.Read(make([]byte, 64))
		done <- err
	}()
	start := time.Now()
	master.Close() // the modem vanishes
	err := waitErr(t, done, "Read after hang-up")
	if !errors.Is(err, ErrPortLost) {
		t.Fatalf("Read after hang-up = %v, want ErrPortLost", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the port", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("loss noticed after %v", d)
	}
	if _, err := p.Write([]byte("AT\r")); !errors.Is(err, ErrPortLost) {
		t.Errorf("Write after hang-up = %v, want ErrPortLost", err)
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	_, path := openPty(t)
	p, err := Open(path, PortConfig{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.Read(make([]byte, 64))
		done <- err
	}()
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	err = waitErr(t, done, "Read after Close")
	if !errors.Is(err, os.ErrClosed) || errors.Is(err, ErrPortLost) {
		t.Fatalf("Read after Close = %v, want os.ErrClosed and not ErrPortLost", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseUnblocksWrite(t *testing.T) {
	_, path := openPty(t) // nobody reads the master: the pty buffer fills
	p, err := Open(path, PortConfig{})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 1<<20)
	done := make(chan error, 1)
	go func() {
		_, err := p.Write(big)
		done <- err
	}()
	p.Close()
	if err := waitErr(t, done, "Write after Close"); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Write after Close = %v, want os.ErrClosed", err)
	}
}

func TestWriteDeadline(t *testing.T) {
	_, path := openPty(t)
	p := openTestPort(t, path, PortConfig{})
	if err := p.SetWriteDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	n, err := p.Write(make([]byte, 1<<20))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write into a full buffer = %d, %v; want os.ErrDeadlineExceeded", n, err)
	}
	if n == 0 || n == 1<<20 {
		t.Errorf("wrote %d bytes before the deadline; want a partial write", n)
	}
}

func TestReadDeadline(t *testing.T) {
	_, path := openPty(t)
	p := openTestPort(t, path, PortConfig{})
	if err := p.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Read(make([]byte, 8)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read of a silent modem = %d, %v; want os.ErrDeadlineExceeded (never 0, nil)", n, err)
	}
}

func TestOpenThroughSymlink(t *testing.T) {
	master, path := openPty(t)
	link := filepath.Join(t.TempDir(), "gsm-modem0")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	p := openTestPort(t, link, PortConfig{Baud: 9600})
	if p.Path() != link {
		t.Errorf("Path() = %q, want %q", p.Path(), link)
	}
	if _, err := master.Write([]byte("RDY\r\n")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(p, got); err != nil || string(got) != "RDY\r\n" {
		t.Fatalf("read %q, %v", got, err)
	}
}

func TestOpenErrors(t *testing.T) {
	_, ptyPath := openPty(t)
	regular := filepath.Join(t.TempDir(), "not-a-tty")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	on := true
	tests := []struct {
		name    string
		path    string
		cfg     PortConfig
		is      error
		code    serial.PortErrorCode
		hasCode bool
		detail  string
	}{
		{name: "missing", path: "/dev/ttyUSB-does-not-exist", is: fs.ErrNotExist},
		{name: "regular file", path: regular, code: serial.InvalidSerialPort, hasCode: true},
		{name: "DTR on a pty", path: ptyPath, cfg: PortConfig{DTR: &on}, detail: "DTR"},
		{name: "RTS on a pty", path: ptyPath, cfg: PortConfig{RTS: &on}, detail: "RTS"},
		{name: "negative baud", path: ptyPath, cfg: PortConfig{Baud: -1}, detail: "baud"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Open(tt.path, tt.cfg)
			if err == nil {
				p.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name %s", err, tt.path)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			var pe *serial.PortError
			if tt.hasCode && (!errors.As(err, &pe) || pe.Code() != tt.code) {
				t.Errorf("error %q is not serial port error %d", err, tt.code)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not mention %q", err, tt.detail)
			}
		})
	}
	// A failed Open must not leave the port held.
	openTestPort(t, ptyPath, PortConfig{})
}

// TestOpenIsExclusive checks TIOCEXCL. Root bypasses it (CAP_SYS_ADMIN), so
// as root the test re-runs its own binary as nobody to try the second open;
// PortHolders is what protects a port from root.
func TestOpenIsExclusive(t *testing.T) {
	_, path := openPty(t)
	openTestPort(t, path, PortConfig{})
	if os.Geteuid() != 0 {
		if _, err := Open(path, PortConfig{}); !errors.Is(err, ErrPortBusy) {
			t.Fatalf("second Open = %v, want ErrPortBusy", err)
		}
		return
	}
	if got := openAsNobody(t, path); got != "busy" {
		t.Fatalf("Open by another user while held: %q, want busy", got)
	}
	// Root gets through; and since the library's Close clears the flag for
	// the whole tty (TIOCNXCL), root's close unlocks the first holder's port.
	p, err := Open(path, PortConfig{})
	if err != nil {
		t.Fatalf("root's second Open failed (%v): TIOCEXCL should not stop root", err)
	}
	p.Close()
	if got := openAsNobody(t, path); got != "opened" {
		t.Fatalf("Open by another user after root's open and close: %q, want opened", got)
	}
}

func openAsNobody(t *testing.T, path string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary sits in a private build directory: copy it where
	// nobody can run it, and let nobody past the pty's permission check so
	// that only the exclusive flag can refuse.
	dir, err := os.MkdirTemp("", "hw-excl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "hw.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{childOpenEnv + "=" + path}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child as nobody: %v", err)
	}
	return strings.TrimSpace(string(out))
}
