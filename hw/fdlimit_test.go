package hw

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// setSoftLimit changes RLIMIT_NOFILE for the rest of the test and restores
// it afterwards; the limit is process-wide, so these tests are not parallel.
func setSoftLimit(t *testing.T, n uint64) {
	t.Helper()
	var orig unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &orig); err != nil {
			t.Errorf("restore RLIMIT_NOFILE: %v", err)
		}
	})
	if err := LimitOpenFiles(n); err != nil {
		t.Fatalf("LimitOpenFiles(%d): %v", n, err)
	}
	var got unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &got); err != nil {
		t.Fatal(err)
	}
	if got.Cur != n || got.Max != orig.Max {
		t.Fatalf("RLIMIT_NOFILE = %d/%d, want %d/%d", got.Cur, got.Max, n, orig.Max)
	}
}

// fillDescriptors takes every free descriptor number below limit (or until
// the process runs out) and releases them when the test ends.
func fillDescriptors(t *testing.T, limit int) {
	t.Helper()
	var held []int
	t.Cleanup(func() {
		for _, fd := range held {
			unix.Close(fd)
		}
	})
	for {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EMFILE) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, fd)
		if fd >= limit-1 {
			return
		}
	}
}

func TestOpenRefusesHighDescriptor(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max < 2*selectLimit {
		t.Skipf("hard RLIMIT_NOFILE %d leaves no room above %d", lim.Max, selectLimit)
	}
	setSoftLimit(t, 2*selectLimit)
	_, path := openPty(t)
	fillDescriptors(t, selectLimit)

	p, err := Open(path, PortConfig{}) // must not panic
	if err == nil {
		p.Close()
		t.Fatal("Open succeeded with descriptors above the select limit")
	}
	if !errors.Is(err, errDescriptorTooHigh) {
		t.Fatalf("Open = %v, want errDescriptorTooHigh", err)
	}
}

func TestOpenRunsOutCleanlyUnderLimit(t *testing.T) {
	setSoftLimit(t, selectLimit)
	_, path := openPty(t)
	fillDescriptors(t, selectLimit)

	p, err := Open(path, PortConfig{})
	if err == nil {
		p.Close()
		t.Fatal("Open succeeded with no descriptor left")
	}
	if !errors.Is(err, unix.EMFILE) {
		t.Fatalf("Open = %v, want EMFILE", err)
	}
}

func TestLimitOpenFilesAboveHardLimit(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max == unix.RLIM_INFINITY {
		t.Skip("no hard limit")
	}
	if err := LimitOpenFiles(lim.Max + 1); err == nil {
		t.Fatal("LimitOpenFiles above the hard limit succeeded")
	}
}

func TestLibraryDescriptorsFound(t *testing.T) {
	_, path := openPty(t)
	p := openTestPort(t, path, PortConfig{})
	fds, err := libraryDescriptors(p.lib)
	if err != nil {
		t.Fatalf("serial library layout changed: %v", err)
	}
	if len(fds) != 3 {
		t.Fatalf("descriptors %v, want tty and pipe pair", fds)
	}
	// The first one must be the tty itself, close-on-exec.
	if _, err := unix.IoctlGetTermios(fds[0], unix.TCGETS); err != nil {
		t.Errorf("descriptor %d is not the tty: %v", fds[0], err)
	}
	for _, fd := range fds {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("descriptor %d not close-on-exec (flags %#x, %v)", fd, flags, err)
		}
	}
}
