package modemsim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// discover follows the layout contract the way hw discovery does: from
// <sys>/class/tty/<tty>/device up to the interface, then the USB device.
func discover(t *testing.T, sys, tty string) (vidpid, ifnum, usbPath string) {
	t.Helper()
	dev, err := filepath.EvalSymlinks(filepath.Join(sys, "class", "tty", tty, "device"))
	if err != nil {
		t.Fatal(err)
	}
	for dir := dev; dir != "/"; dir = filepath.Dir(dir) {
		b, err := os.ReadFile(filepath.Join(dir, "bInterfaceNumber"))
		if err != nil {
			continue
		}
		usb := filepath.Dir(dir)
		vid, _ := os.ReadFile(filepath.Join(usb, "idVendor"))
		pid, _ := os.ReadFile(filepath.Join(usb, "idProduct"))
		return strings.TrimSpace(string(vid)) + ":" + strings.TrimSpace(string(pid)), strings.TrimSpace(string(b)), filepath.Base(usb)
	}
	t.Fatalf("no interface dir above %s", dev)
	return "", "", ""
}

func TestSysfsLayout(t *testing.T) {
	tests := []struct {
		dialect Dialect
		vidpid  string
		ttys    map[string]string // tty -> interface number
	}{
		{Huawei, "12d1:1001", map[string]string{"ttyUSB0": "00", "ttyUSB1": "01", "ttyUSB2": "02"}},
		{SIMCom, "1e0e:9001", map[string]string{"ttyUSB2": "02"}},
		{Quectel, "2c7c:0125", map[string]string{"ttyUSB2": "02"}},
		{Generic, "19d2:0031", map[string]string{"ttyUSB2": "02"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.dialect), func(t *testing.T) {
			n := newTestNetwork(t, NetworkOptions{Root: t.TempDir()})
			m := addModem(t, n, ModemConfig{Dialect: tt.dialect, TTY: "ttyUSB2", USBPath: "1-1.3", NoisePeriod: -1})
			sys, dev := n.Roots()
			for tty, ifnum := range tt.ttys {
				vidpid, gotIf, usb := discover(t, sys, tty)
				if vidpid != tt.vidpid || gotIf != ifnum || usb != "1-1.3" {
					t.Errorf("%s: %s if %s at %s; want %s if %s at 1-1.3", tty, vidpid, gotIf, usb, tt.vidpid, ifnum)
				}
				target, err := os.Readlink(filepath.Join(dev, tty))
				if err != nil || !strings.HasPrefix(target, "/dev/pts/") {
					t.Errorf("%s -> %q, %v", tty, target, err)
				}
				link, _ := os.Readlink(filepath.Join(sys, "class", "tty", tty))
				if filepath.IsAbs(link) {
					t.Errorf("class link %s is absolute", link)
				}
			}
			if m.Path() != filepath.Join(dev, "ttyUSB2") {
				t.Errorf("Path() = %s", m.Path())
			}
			m.Vanish()
			entries, _ := os.ReadDir(filepath.Join(sys, "class", "tty"))
			devs, _ := os.ReadDir(dev)
			usbs, _ := os.ReadDir(filepath.Join(sys, "devices", "platform", "sim", "usb1"))
			if len(entries)+len(devs)+len(usbs) != 0 {
				t.Errorf("left after vanish: %v %v %v", entries, devs, usbs)
			}
			if err := m.Return("ttyUSB5"); err != nil {
				t.Fatal(err)
			}
			if vidpid, _, usb := discover(t, sys, "ttyUSB5"); vidpid != tt.vidpid || usb != "1-1.3" {
				t.Errorf("after return: %s at %s", vidpid, usb)
			}
		})
	}
}

func TestTempRootRemoved(t *testing.T) {
	n, err := NewNetwork(NetworkOptions{Clock: testClock()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.AddModem(ModemConfig{}); err != nil {
		t.Fatal(err)
	}
	sys, _ := n.Roots()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(sys)); !os.IsNotExist(err) {
		t.Errorf("temp root survives Close: %v", err)
	}
}
