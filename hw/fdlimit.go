package hw

import (
	"errors"
	"fmt"
	"reflect"

	"go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// selectLimit is FD_SETSIZE: go.bug.st/serial puts its descriptors in a
// unix.FdSet for select(2), which panics (index out of range) at or above it.
const selectLimit = 1024

// errDescriptorTooHigh refuses a port whose descriptors the serial library
// could not select on.
var errDescriptorTooHigh = errors.New("descriptor number too high for the serial library")

// LimitOpenFiles sets the soft RLIMIT_NOFILE to n. Call it with 1024 at start:
// Go raises the soft limit to the hard one by itself, and with descriptors
// numbered 1024 or more the serial library panics; under the limit, running
// out of descriptors is an EMFILE error from open instead of a crash.
func LimitOpenFiles(n uint64) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("hw: get RLIMIT_NOFILE: %w", err)
	}
	if n > lim.Max {
		return fmt.Errorf("hw: RLIMIT_NOFILE %d above the hard limit %d", n, lim.Max)
	}
	lim.Cur = n
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("hw: set RLIMIT_NOFILE to %d: %w", n, err)
	}
	return nil
}

// libraryDescriptors returns the descriptors a go.bug.st/serial v1.8.0 port
// holds: the tty first, then its close-signal pipe. The library exports none
// of them, so they are read by reflection from its unexported fields; a
// library upgrade that renames them makes Open fail loudly (and the tests
// with it) rather than run unguarded.
func libraryDescriptors(p serial.Port) ([]int, error) {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("unexpected serial port type %T", p)
	}
	port := v.Elem()
	handle := port.FieldByName("handle")
	if !handle.IsValid() || handle.Kind() != reflect.Int {
		return nil, fmt.Errorf("serial port type %T has no descriptor field", p)
	}
	fds := []int{int(handle.Int())}
	pipe := port.FieldByName("closeSignal")
	if !pipe.IsValid() || pipe.Kind() != reflect.Pointer || pipe.IsNil() {
		return nil, fmt.Errorf("serial port type %T has no close-signal pipe", p)
	}
	for _, name := range []string{"rd", "wr"} {
		f := pipe.Elem().FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Int {
			return nil, fmt.Errorf("serial pipe type %s has no field %s", pipe.Type(), name)
		}
		fds = append(fds, int(f.Int()))
	}
	return fds, nil
}

func checkDescriptors(fds []int) error {
	for _, fd := range fds {
		if fd < 0 || fd >= selectLimit {
			return fmt.Errorf("%w: %d (limit %d; call LimitOpenFiles at start)", errDescriptorTooHigh, fd, selectLimit)
		}
	}
	return nil
}
