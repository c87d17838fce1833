package modemsim

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// The fake sysfs and dev tree, laid out like Linux for usb-serial ttys:
//
//	<sys>/devices/platform/sim/usb1/<usb>/               idVendor idProduct manufacturer product busnum devnum
//	<sys>/devices/platform/sim/usb1/<usb>/<usb>:1.<if>/  bInterfaceNumber bInterfaceClass
//	                                   .../<tty>/tty/<tty>/device -> ../..
//	<sys>/class/tty/<tty> -> ../../devices/.../<tty>/tty/<tty>
//	<dev>/<tty> -> /dev/pts/N
//
// All simulated modems use usb-serial (ttyUSB) naming; cdc-acm is not
// simulated.

var ttyNumber = regexp.MustCompile(`^(.*?)(\d+)$`)

// interfaceTTYs names the tty of every interface: the AT tty is cfg.TTY and
// the silent siblings take the numbers just below it, as the kernel hands
// them out in interface order.
func interfaceTTYs(cfg ModemConfig, info dialectInfo) map[int]string {
	names := map[int]string{info.atInterface: cfg.TTY}
	base, num := cfg.TTY, -1
	if sm := ttyNumber.FindStringSubmatch(cfg.TTY); sm != nil {
		base = sm[1]
		num, _ = strconv.Atoi(sm[2])
	}
	for i, ifnum := range info.silentInterfaces {
		k := num - len(info.silentInterfaces) + i
		if k >= 0 {
			names[ifnum] = fmt.Sprintf("%s%d", base, k)
		} else {
			names[ifnum] = fmt.Sprintf("%s.if%02d", cfg.TTY, ifnum)
		}
	}
	return names
}

// addSysfs creates a modem's entries and returns what removeSysfs must
// delete on unplug.
func (n *Network) addSysfs(cfg ModemConfig, info dialectInfo, at *port, silent []*port, devnum int) ([]string, error) {
	sys, dev := n.Roots()
	usbDir := filepath.Join(sys, "devices", "platform", "sim", "usb1", cfg.USBPath)
	removals := []string{usbDir}
	files := map[string]string{
		"idVendor": info.vid, "idProduct": info.pid, "manufacturer": info.usbManufacturer,
		"product": info.usbProduct, "busnum": "1", "devnum": strconv.Itoa(devnum),
	}
	if err := writeFiles(usbDir, files); err != nil {
		return removals, err
	}
	ports := map[int]*port{info.atInterface: at}
	for i, ifnum := range info.silentInterfaces {
		ports[ifnum] = silent[i]
	}
	for ifnum, tty := range interfaceTTYs(cfg, info) {
		ifDir := filepath.Join(usbDir, fmt.Sprintf("%s:1.%d", cfg.USBPath, ifnum))
		err := writeFiles(ifDir, map[string]string{
			"bInterfaceNumber": fmt.Sprintf("%02x", ifnum), "bInterfaceClass": "ff",
		})
		if err != nil {
			return removals, err
		}
		classDir := filepath.Join(ifDir, tty, "tty", tty)
		if err := writeFiles(classDir, map[string]string{"dev": "188:" + strconv.Itoa(devnum*4+ifnum)}); err != nil {
			return removals, err
		}
		if err := os.Symlink("../..", filepath.Join(classDir, "device")); err != nil {
			return removals, fmt.Errorf("sim: sysfs: %w", err)
		}
		classLink := filepath.Join(sys, "class", "tty", tty)
		rel, err := filepath.Rel(filepath.Dir(classLink), classDir)
		if err != nil {
			return removals, fmt.Errorf("sim: sysfs: %w", err)
		}
		devLink := filepath.Join(dev, tty)
		removals = append(removals, classLink, devLink)
		if err := os.Symlink(rel, classLink); err != nil {
			return removals, fmt.Errorf("sim: sysfs: %w", err)
		}
		if err := os.Symlink(ports[ifnum].slavePath(), devLink); err != nil {
			return removals, fmt.Errorf("sim: dev: %w", err)
		}
	}
	return removals, nil
}

func writeFiles(dir string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sim: sysfs: %w", err)
	}
	for name, v := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o644); err != nil {
			return fmt.Errorf("sim: sysfs: %w", err)
		}
	}
	return nil
}

func (n *Network) removeSysfs(paths []string) {
	for _, p := range paths {
		if err := os.RemoveAll(p); err != nil {
			n.log.Warn("sim: removing sysfs entry", "path", p, "err", err)
		}
	}
}
