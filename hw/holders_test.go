package hw

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPortHoldersFakeProc(t *testing.T) {
	root := t.TempDir()
	dev := filepath.Join(root, "dev")
	proc := filepath.Join(root, "proc")
	writeFile(t, filepath.Join(dev, "ttyUSB2"), "")
	writeFile(t, filepath.Join(dev, "ttyUSB3"), "")
	symlink(t, filepath.Join(dev, "ttyUSB2"), filepath.Join(dev, "gsm", "modem1"))
	symlink(t, "../../ttyUSB2", filepath.Join(dev, "serial", "by-id", "usb-HUAWEI_Mobile-if02-port0"))

	self := strconv.Itoa(os.Getpid())
	process := func(pid, comm string, fds map[string]string) {
		if comm != "" {
			writeFile(t, filepath.Join(proc, pid, "comm"), comm+"\n")
		}
		for fd, target := range fds {
			symlink(t, target, filepath.Join(proc, pid, "fd", fd))
		}
	}
	process("812", "ModemManager", map[string]string{"0": "/dev/null", "9": filepath.Join(dev, "ttyUSB2"), "10": "socket:[4242]"})
	process("90", "minicom", map[string]string{"3": filepath.Join(dev, "ttyUSB2"), "4": filepath.Join(dev, "ttyUSB2")})
	process("1500", "gsmbridge", map[string]string{"7": filepath.Join(dev, "ttyUSB3")})
	process("1600", "", map[string]string{"5": filepath.Join(dev, "ttyUSB2")}) // exited before comm was read
	process(self, "hw.test", map[string]string{"8": filepath.Join(dev, "ttyUSB2")})
	writeFile(t, filepath.Join(proc, "2", "comm"), "kthreadd\n") // no fd dir readable
	// Descriptors this user may not read (a file stands in for the
	// directory: the tests run as root, which permissions do not stop).
	writeFile(t, filepath.Join(proc, "1700", "comm"), "ModemManager\n")
	writeFile(t, filepath.Join(proc, "1700", "fd"), "")
	writeFile(t, filepath.Join(proc, "1800", "comm"), "sshd\n")
	writeFile(t, filepath.Join(proc, "1800", "fd"), "")
	writeFile(t, filepath.Join(proc, "meminfo"), "")
	symlink(t, self, filepath.Join(proc, "self"))

	tests := []struct {
		name, path string
		want       []Holder
	}{
		{"by node", filepath.Join(dev, "ttyUSB2"), []Holder{{90, "minicom", false}, {812, "ModemManager", false}, {1600, "", false}, {1700, "ModemManager", true}}},
		{"by udev link", filepath.Join(dev, "gsm", "modem1"), []Holder{{90, "minicom", false}, {812, "ModemManager", false}, {1600, "", false}, {1700, "ModemManager", true}}},
		{"by relative by-id link", filepath.Join(dev, "serial", "by-id", "usb-HUAWEI_Mobile-if02-port0"), []Holder{{90, "minicom", false}, {812, "ModemManager", false}, {1600, "", false}, {1700, "ModemManager", true}}},
		{"other port", filepath.Join(dev, "ttyUSB3"), []Holder{{1500, "gsmbridge", false}, {1700, "ModemManager", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PortHolders(proc, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PortHolders = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := PortHolders(proc, filepath.Join(dev, "ttyUSB9")); err == nil {
		t.Error("PortHolders of a missing device succeeded")
	}
	if _, err := PortHolders(filepath.Join(root, "noproc"), filepath.Join(dev, "ttyUSB2")); err == nil {
		t.Error("PortHolders without a proc tree succeeded")
	}
}

// startHolder runs sleep with the port as its stdin, as minicom or another
// daemon would hold it, and stops it when the test ends.
func startHolder(t *testing.T, path string) int {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("sleep", "600")
	cmd.Stdin = f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd.Process.Pid
}

func TestPortHoldersRealProc(t *testing.T) {
	_, path := openPty(t)
	p := openTestPort(t, path, PortConfig{}) // this process holds it too, and is left out
	link := filepath.Join(t.TempDir(), "modem0")
	symlink(t, path, link)

	if got, err := PortHolders("/proc", link); err != nil || len(got) != 0 {
		t.Fatalf("holders before anyone else opened it: %v, %v", got, err)
	}
	pid := startHolder(t, path)
	got, err := PortHolders("/proc", link)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Holder{{PID: pid, Command: "sleep"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("PortHolders = %v, want %v", got, want)
	}
	p.Close()
}

// A second device node for the same device (another /dev, a container's)
// is matched by device number.
func TestPortHoldersByDeviceNumber(t *testing.T) {
	_, path := openPty(t)
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	alias := filepath.Join(t.TempDir(), "ttyAlias")
	if err := unix.Mknod(alias, unix.S_IFCHR|0o600, int(st.Rdev)); err != nil {
		t.Skipf("cannot make a device node here: %v", err)
	}
	pid := startHolder(t, path)
	got, err := PortHolders("/proc", alias)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Holder{{PID: pid, Command: "sleep"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("PortHolders(%s) = %v, want %v", alias, got, want)
	}
}
