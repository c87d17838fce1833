package hw

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Holder is a process that has a port open.
type Holder struct {
	PID     int
	Command string // from /proc/<pid>/comm; "" if it could not be read
	// Unverified marks a program known to drive modems (ModemManager, a
	// gsmbridge daemon, an SMS gateway) whose descriptors this user may
	// not read: it may hold the port, and nobody can tell without root.
	Unverified bool
}

// modemPrograms are the commands that open modem ports on their own; when
// one of them runs as another user, its descriptors cannot be checked.
var modemPrograms = map[string]bool{
	"modemmanager": true, "gsmbridge": true, "gammu-smsd": true, "smsd": true, "bearerbox": true,
	"minicom": true, "picocom": true,
}

// PortHolders lists the processes other than this one that have devPath
// open, by scanning procRoot ("/proc" in production) for descriptors linked
// to it. devPath may be any symlink to the device (/dev/gsm/x,
// /dev/serial/by-id/...); a descriptor matches by resolved path or, for a
// device node, by device number. Direct CLI mode uses this to refuse a port
// that a daemon, ModemManager or minicom holds: TIOCEXCL does not stop root.
// Processes that vanish during the scan are skipped; one whose descriptors
// cannot be read is listed as Unverified when it is a modem program, as a
// non-root user cannot see into ModemManager running as root.
func PortHolders(procRoot, devPath string) ([]Holder, error) {
	target, err := filepath.EvalSymlinks(devPath)
	if err != nil {
		return nil, fmt.Errorf("hw: holders of %s: %w", devPath, err)
	}
	target, err = filepath.Abs(target)
	if err != nil {
		return nil, fmt.Errorf("hw: holders of %s: %w", devPath, err)
	}
	rdev, isDevice := deviceNumber(target)

	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, fmt.Errorf("hw: holders of %s: %w", devPath, err)
	}
	self := os.Getpid()
	var holders []Holder
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		held, err := holdsDevice(filepath.Join(procRoot, e.Name(), "fd"), target, rdev, isDevice)
		switch {
		case held:
			holders = append(holders, Holder{PID: pid, Command: readComm(procRoot, e.Name())})
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			if comm := readComm(procRoot, e.Name()); modemPrograms[strings.ToLower(comm)] {
				holders = append(holders, Holder{PID: pid, Command: comm, Unverified: true})
			}
		}
	}
	sort.Slice(holders, func(i, j int) bool { return holders[i].PID < holders[j].PID })
	return holders, nil
}

// holdsDevice reports whether the descriptors in fdDir include the device;
// the error is that of reading fdDir.
func holdsDevice(fdDir, target string, rdev uint64, isDevice bool) (bool, error) {
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return false, err
	}
	for _, fd := range fds {
		fdPath := filepath.Join(fdDir, fd.Name())
		link, err := os.Readlink(fdPath)
		if err != nil {
			continue
		}
		if link == target {
			return true, nil
		}
		// Sockets, pipes and anon inodes have no path: not worth a stat.
		if !isDevice || !strings.HasPrefix(link, "/") {
			continue
		}
		if n, ok := deviceNumber(fdPath); ok && n == rdev {
			return true, nil
		}
	}
	return false, nil
}

// deviceNumber returns st_rdev of the character device at path, following
// symlinks (and /proc's fd links).
func deviceNumber(path string) (uint64, bool) {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Rdev, true
}

func readComm(procRoot, pid string) string {
	b, err := os.ReadFile(filepath.Join(procRoot, pid, "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
