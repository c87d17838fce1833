package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether w is a terminal that takes cursor movement: a
// file whose descriptor answers the terminal ioctl, under a TERM other than
// "dumb". Pipes, files and buffers get plain lines, never control codes.
// (gsmbridge prints no colour, so NO_COLOR has nothing to turn off.)
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	// Through SyscallConn rather than Fd, which would switch the file to
	// blocking mode as a side effect.
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	var termErr error
	if err := rc.Control(func(fd uintptr) {
		_, termErr = unix.IoctlGetTermios(int(fd), unix.TCGETS)
	}); err != nil {
		return false
	}
	return termErr == nil
}
