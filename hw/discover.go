package hw

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Roots are where Discover looks: the sysfs and /dev mount points. Tests and
// the simulator point them at trees they build.
type Roots struct{ Sys, Dev string }

// DefaultRoots are the real machine's.
func DefaultRoots() Roots { return Roots{Sys: "/sys", Dev: "/dev"} }

// Device is one USB serial tty with its USB identity.
type Device struct {
	TTY                           string // "ttyUSB2"
	DevPath                       string // <Dev>/ttyUSB2
	USBPath                       string // "1-1.3": the physical port, stable across replugs
	VID, PID                      string
	Interface                     int
	Model                         *Model // the matching row of the models given to Discover, nil if none
	IsAT                          bool   // the AT port of its USB device according to Model
	Manufacturer, Product, Serial string
}

// ProblemKind says what is wrong with a USB device or tty entry.
type ProblemKind string

const (
	// ProblemStorageMode: a known modem still in USB-storage mode.
	ProblemStorageMode ProblemKind = "storage-mode"
	// ProblemNoATPort: a known device whose firmware has no AT port (HiLink).
	ProblemNoATPort ProblemKind = "no-at-port"
	// ProblemUnreadable: a tty whose sysfs entry or device node is broken or
	// half gone (typically mid-unplug); it was skipped.
	ProblemUnreadable ProblemKind = "unreadable"
)

// Problem is something `gsmbridge scan` should tell the operator about,
// with the fix where there is one.
type Problem struct {
	Kind     ProblemKind
	Path     string // the sysfs or /dev entry concerned
	USBPath  string
	VID, PID string
	Model    *Model
	Hint     string
	Err      error // the cause, for ProblemUnreadable
}

func (p Problem) String() string {
	s := fmt.Sprintf("%s: %s", p.Kind, p.Path)
	if p.Model != nil {
		s += " (" + p.Model.String() + ")"
	}
	if p.Err != nil {
		s += ": " + p.Err.Error()
	}
	if p.Hint != "" {
		s += "; " + p.Hint
	}
	return s
}

var usbTTYName = regexp.MustCompile(`^tty(USB|ACM)[0-9]+$`)

// Discover lists the ttyUSB* and ttyACM* devices under r with their USB
// identity, sorted by USB path and interface, and marks each USB device's AT
// port from models. Broken entries are skipped and reported as problems, as
// are known modems in storage or HiLink mode, which have no tty. Only a
// missing or unreadable <Sys>/class/tty is an error.
func Discover(r Roots, models []Model) ([]Device, []Problem, error) {
	classDir := filepath.Join(r.Sys, "class", "tty")
	entries, err := os.ReadDir(classDir)
	if err != nil {
		return nil, nil, fmt.Errorf("hw: discover: %w", err)
	}
	var (
		devices  []Device
		problems []Problem
	)
	for _, e := range entries {
		if !usbTTYName.MatchString(e.Name()) {
			continue
		}
		d, err := readTTY(r, e.Name())
		if err != nil {
			problems = append(problems, Problem{Kind: ProblemUnreadable, Path: filepath.Join(classDir, e.Name()), Err: err})
			continue
		}
		d.Model = findModel(models, d.VID, d.PID)
		devices = append(devices, d)
	}
	sort.Slice(devices, func(i, j int) bool {
		if devices[i].USBPath != devices[j].USBPath {
			return devices[i].USBPath < devices[j].USBPath
		}
		return devices[i].Interface < devices[j].Interface
	})
	markATPorts(devices)
	problems = append(problems, modeProblems(r, models, devices)...)
	return devices, problems, nil
}

func readTTY(r Roots, name string) (Device, error) {
	dev, err := filepath.EvalSymlinks(filepath.Join(r.Sys, "class", "tty", name, "device"))
	if err != nil {
		return Device{}, err
	}
	iface, err := interfaceDir(r.Sys, dev)
	if err != nil {
		return Device{}, err
	}
	usbDir := filepath.Dir(iface)
	d := Device{TTY: name, DevPath: filepath.Join(r.Dev, name), USBPath: filepath.Base(usbDir)}
	ifnum, err := readAttr(iface, "bInterfaceNumber")
	if err != nil {
		return Device{}, err
	}
	n, err := strconv.ParseUint(ifnum, 16, 8)
	if err != nil {
		return Device{}, fmt.Errorf("%s/bInterfaceNumber: %w", iface, err)
	}
	d.Interface = int(n)
	if d.VID, err = readID(usbDir, "idVendor"); err != nil {
		return Device{}, err
	}
	if d.PID, err = readID(usbDir, "idProduct"); err != nil {
		return Device{}, err
	}
	// Descriptive strings are optional: cheap sticks leave serial out.
	d.Manufacturer, _ = readAttr(usbDir, "manufacturer")
	d.Product, _ = readAttr(usbDir, "product")
	d.Serial, _ = readAttr(usbDir, "serial")
	if _, err := os.Lstat(d.DevPath); err != nil {
		return Device{}, fmt.Errorf("device node: %w", err)
	}
	return d, nil
}

// interfaceDir walks up from a tty's device directory to the USB interface
// directory, the first one holding bInterfaceNumber: the device dir itself
// for cdc-acm, its parent for usb-serial drivers.
func interfaceDir(sys, dev string) (string, error) {
	sysAbs, err := filepath.EvalSymlinks(sys)
	if err != nil {
		return "", err
	}
	for dir := dev; strings.HasPrefix(dir, sysAbs+string(filepath.Separator)); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "bInterfaceNumber")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%s: not on a USB interface", dev)
}

func readAttr(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

var hexID = regexp.MustCompile(`^[0-9a-f]{4}$`)

func readID(dir, name string) (string, error) {
	s, err := readAttr(dir, name)
	if err != nil {
		return "", err
	}
	s = strings.ToLower(s)
	if !hexID.MatchString(s) {
		return "", fmt.Errorf("%s/%s: %q is not a USB ID", dir, name, s)
	}
	return s, nil
}

// markATPorts sets IsAT on each USB device's most preferred AT interface
// that has a tty. devices must be sorted by USB path.
func markATPorts(devices []Device) {
	for start := 0; start < len(devices); {
		end := start
		for end < len(devices) && devices[end].USBPath == devices[start].USBPath {
			end++
		}
		group := devices[start:end]
		if m := group[0].Model; m != nil && m.Mode == ModeModem {
		preference:
			for _, want := range m.ATInterface {
				for i := range group {
					if group[i].Interface == want {
						group[i].IsAT = true
						break preference
					}
				}
			}
		}
		start = end
	}
}

// modeProblems finds known modems in storage or HiLink mode. They have no
// tty, so they are found among all USB devices under <Sys>/devices.
func modeProblems(r Roots, models []Model, devices []Device) []Problem {
	withTTY := make(map[string]bool, len(devices))
	for _, d := range devices {
		withTTY[d.USBPath] = true
	}
	var problems []Problem
	root := filepath.Join(r.Sys, "devices")
	filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil // a device unplugged mid-walk: not ours to report
		}
		if !e.IsDir() {
			return nil
		}
		if filepath.Dir(path) == root && (e.Name() == "virtual" || e.Name() == "system") {
			return filepath.SkipDir // no USB devices there, and large
		}
		vid, err := readID(path, "idVendor")
		if err != nil {
			return nil
		}
		pid, err := readID(path, "idProduct")
		if err != nil {
			return nil
		}
		m := findModel(models, vid, pid)
		if m == nil || m.Mode == ModeModem || withTTY[e.Name()] {
			return nil
		}
		p := Problem{Path: path, USBPath: e.Name(), VID: vid, PID: pid, Model: m}
		switch m.Mode {
		case ModeStorage:
			p.Kind = ProblemStorageMode
			p.Hint = fmt.Sprintf("the stick is in USB-storage mode: run usb_modeswitch -v 0x%s -p 0x%s (install usb-modeswitch-data so udev does it on plug-in)", vid, pid)
		case ModeHiLink:
			p.Kind = ProblemNoATPort
			p.Hint = "HiLink firmware has no AT port: switch it to stick (modem) mode or use a stick-firmware modem"
		default:
			return nil
		}
		problems = append(problems, p)
		return nil
	})
	return problems
}
