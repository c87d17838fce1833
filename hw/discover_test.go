package hw

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeUSB is one USB device in a fake sysfs tree, laid out as the shared
// contract (and real Linux) has it.
type fakeUSB struct {
	busPort               string // "1-1.3"
	vid, pid              string
	manufacturer, product string
	serial                string // "" leaves the file out
	ifaces                []fakeIface
}

type fakeIface struct {
	num int
	tty string // "" for an interface without a tty
	acm bool   // cdc-acm: the tty's device is the interface dir itself
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func relLink(t *testing.T, target, link string) {
	t.Helper()
	rel, err := filepath.Rel(filepath.Dir(link), target)
	if err != nil {
		t.Fatal(err)
	}
	symlink(t, rel, link)
}

func buildFakeTree(t *testing.T, devices ...fakeUSB) Roots {
	t.Helper()
	root := t.TempDir()
	r := Roots{Sys: filepath.Join(root, "sys"), Dev: filepath.Join(root, "dev")}
	for _, dir := range []string{filepath.Join(r.Sys, "class", "tty"), r.Dev} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A root hub and a non-USB tty, as on every machine.
	hub := filepath.Join(r.Sys, "devices", "platform", "sim", "usb1")
	writeFile(t, filepath.Join(hub, "idVendor"), "1d6b\n")
	writeFile(t, filepath.Join(hub, "idProduct"), "0002\n")
	serial8250 := filepath.Join(r.Sys, "devices", "platform", "serial8250", "tty", "ttyS0")
	writeFile(t, filepath.Join(serial8250, "dev"), "4:64\n")
	relLink(t, serial8250, filepath.Join(r.Sys, "class", "tty", "ttyS0"))

	for _, d := range devices {
		usbDir := filepath.Join(hub, d.busPort)
		writeFile(t, filepath.Join(usbDir, "idVendor"), d.vid+"\n")
		writeFile(t, filepath.Join(usbDir, "idProduct"), d.pid+"\n")
		writeFile(t, filepath.Join(usbDir, "manufacturer"), d.manufacturer+"\n")
		writeFile(t, filepath.Join(usbDir, "product"), d.product+"\n")
		writeFile(t, filepath.Join(usbDir, "busnum"), "1\n")
		writeFile(t, filepath.Join(usbDir, "devnum"), "7\n")
		if d.serial != "" {
			writeFile(t, filepath.Join(usbDir, "serial"), d.serial+"\n")
		}
		for _, ifc := range d.ifaces {
			ifDir := filepath.Join(usbDir, fmt.Sprintf("%s:1.%d", d.busPort, ifc.num))
			writeFile(t, filepath.Join(ifDir, "bInterfaceNumber"), fmt.Sprintf("%02x\n", ifc.num))
			writeFile(t, filepath.Join(ifDir, "bInterfaceClass"), "ff\n")
			if ifc.tty == "" {
				continue
			}
			devDir := filepath.Join(ifDir, ifc.tty)
			if ifc.acm {
				devDir = ifDir
			}
			classDir := filepath.Join(devDir, "tty", ifc.tty)
			writeFile(t, filepath.Join(classDir, "dev"), "188:0\n")
			relLink(t, devDir, filepath.Join(classDir, "device"))
			relLink(t, classDir, filepath.Join(r.Sys, "class", "tty", ifc.tty))
			writeFile(t, filepath.Join(r.Dev, ifc.tty), "")
		}
	}
	return r
}

func ifaces(tty string, nums ...int) []fakeIface {
	var out []fakeIface
	for i, n := range nums {
		out = append(out, fakeIface{num: n, tty: fmt.Sprintf("%s%d", tty, i)})
	}
	return out
}

// deviceSummary is what a reader of `gsmbridge scan` would check.
type deviceSummary struct {
	TTY, USBPath, ID string
	Interface        int
	IsAT             bool
	Model            string
	Manufacturer     string
	Product, Serial  string
}

func summarize(r Roots, ds []Device) []deviceSummary {
	var out []deviceSummary
	for _, d := range ds {
		s := deviceSummary{TTY: d.TTY, USBPath: d.USBPath, ID: d.VID + ":" + d.PID, Interface: d.Interface,
			IsAT: d.IsAT, Manufacturer: d.Manufacturer, Product: d.Product, Serial: d.Serial}
		if d.Model != nil {
			s.Model = d.Model.String()
		}
		if d.DevPath != filepath.Join(r.Dev, d.TTY) {
			s.TTY += " at " + d.DevPath
		}
		out = append(out, s)
	}
	return out
}

func TestDiscover(t *testing.T) {
	e173 := fakeUSB{busPort: "1-1.3", vid: "12d1", pid: "1001", manufacturer: "HUAWEI", product: "HUAWEI Mobile",
		ifaces: ifaces("ttyUSB", 0, 1, 2)}
	tests := []struct {
		name     string
		devices  []fakeUSB
		want     []deviceSummary
		problems []string // Kind and the base name of Path
	}{
		{
			name:    "huawei E173 on three ttyUSB",
			devices: []fakeUSB{e173},
			want: []deviceSummary{
				{TTY: "ttyUSB0", USBPath: "1-1.3", ID: "12d1:1001", Interface: 0, Model: "Huawei E1550/E173 (12d1:1001)", Manufacturer: "HUAWEI", Product: "HUAWEI Mobile"},
				{TTY: "ttyUSB1", USBPath: "1-1.3", ID: "12d1:1001", Interface: 1, Model: "Huawei E1550/E173 (12d1:1001)", Manufacturer: "HUAWEI", Product: "HUAWEI Mobile"},
				{TTY: "ttyUSB2", USBPath: "1-1.3", ID: "12d1:1001", Interface: 2, IsAT: true, Model: "Huawei E1550/E173 (12d1:1001)", Manufacturer: "HUAWEI", Product: "HUAWEI Mobile"},
			},
		},
		{
			name: "preferred interface missing falls back",
			devices: []fakeUSB{{busPort: "2-1", vid: "12d1", pid: "1506", manufacturer: "HUAWEI_MOBILE", product: "HUAWEI_MOBILE",
				ifaces: ifaces("ttyUSB", 0, 2)}},
			want: []deviceSummary{
				{TTY: "ttyUSB0", USBPath: "2-1", ID: "12d1:1506", Interface: 0, Model: "Huawei E3131/E3372 stick (12d1:1506)", Manufacturer: "HUAWEI_MOBILE", Product: "HUAWEI_MOBILE"},
				{TTY: "ttyUSB1", USBPath: "2-1", ID: "12d1:1506", Interface: 2, IsAT: true, Model: "Huawei E3131/E3372 stick (12d1:1506)", Manufacturer: "HUAWEI_MOBILE", Product: "HUAWEI_MOBILE"},
			},
		},
		{
			name: "cdc-acm ttys, vendor-wide row, serial number",
			devices: []fakeUSB{{busPort: "1-1.4", vid: "1E0E", pid: "9011", manufacturer: "SimTech, Incorporated", product: "SimTech", serial: "0123456789ABCDEF",
				ifaces: []fakeIface{{num: 2, tty: "ttyACM0", acm: true}, {num: 3, tty: "ttyACM1", acm: true}, {num: 4}}}},
			want: []deviceSummary{
				{TTY: "ttyACM0", USBPath: "1-1.4", ID: "1e0e:9011", Interface: 2, IsAT: true, Model: "SIMCom (1e0e)", Manufacturer: "SimTech, Incorporated", Product: "SimTech", Serial: "0123456789ABCDEF"},
				{TTY: "ttyACM1", USBPath: "1-1.4", ID: "1e0e:9011", Interface: 3, Model: "SIMCom (1e0e)", Manufacturer: "SimTech, Incorporated", Product: "SimTech", Serial: "0123456789ABCDEF"},
			},
		},
		{
			name:    "unknown vendor listed without model",
			devices: []fakeUSB{{busPort: "1-2", vid: "1a86", pid: "7523", product: "USB Serial", ifaces: ifaces("ttyUSB", 0)}},
			want:    []deviceSummary{{TTY: "ttyUSB0", USBPath: "1-2", ID: "1a86:7523", Interface: 0, Product: "USB Serial"}},
		},
		{
			name: "storage-mode and HiLink sticks have no tty",
			devices: []fakeUSB{
				{busPort: "1-1.1", vid: "12d1", pid: "1f01", product: "HUAWEI_MOBILE", ifaces: []fakeIface{{num: 0}}},
				{busPort: "1-1.2", vid: "12d1", pid: "14dc", product: "HUAWEI_MOBILE", ifaces: []fakeIface{{num: 0}, {num: 1}}},
				{busPort: "1-1.5", vid: "19d2", pid: "2000", product: "ZTE WCDMA Technologies MSM", ifaces: []fakeIface{{num: 0}}},
			},
			problems: []string{"storage-mode 1-1.1", "no-at-port 1-1.2", "storage-mode 1-1.5"},
		},
		{
			name: "sorted by USB path then interface across devices",
			devices: []fakeUSB{
				{busPort: "1-1.4", vid: "2c7c", pid: "0125", manufacturer: "Quectel", product: "EC25-E",
					ifaces: []fakeIface{{num: 3, tty: "ttyUSB1"}, {num: 2, tty: "ttyUSB0"}}},
				{busPort: "1-1.2", vid: "1199", pid: "9071", manufacturer: "Sierra Wireless, Incorporated", product: "EM7455",
					ifaces: []fakeIface{{num: 3, tty: "ttyUSB3"}, {num: 2, tty: "ttyUSB2"}}},
			},
			want: []deviceSummary{
				{TTY: "ttyUSB2", USBPath: "1-1.2", ID: "1199:9071", Interface: 2, Model: "Sierra Wireless MC7430/MC7455 (1199:9071)", Manufacturer: "Sierra Wireless, Incorporated", Product: "EM7455"},
				{TTY: "ttyUSB3", USBPath: "1-1.2", ID: "1199:9071", Interface: 3, IsAT: true, Model: "Sierra Wireless MC7430/MC7455 (1199:9071)", Manufacturer: "Sierra Wireless, Incorporated", Product: "EM7455"},
				{TTY: "ttyUSB0", USBPath: "1-1.4", ID: "2c7c:0125", Interface: 2, IsAT: true, Model: "Quectel EC25 (2c7c:0125)", Manufacturer: "Quectel", Product: "EC25-E"},
				{TTY: "ttyUSB1", USBPath: "1-1.4", ID: "2c7c:0125", Interface: 3, Model: "Quectel EC25 (2c7c:0125)", Manufacturer: "Quectel", Product: "EC25-E"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := buildFakeTree(t, tt.devices...)
			devices, problems, err := Discover(r, DefaultModels())
			if err != nil {
				t.Fatal(err)
			}
			if got := summarize(r, devices); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("devices:\n got %+v\nwant %+v", got, tt.want)
			}
			var gotProblems []string
			for _, p := range problems {
				gotProblems = append(gotProblems, string(p.Kind)+" "+filepath.Base(p.Path))
				if p.Hint == "" || p.Model == nil {
					t.Errorf("problem %v lacks a model or a hint", p)
				}
			}
			if !reflect.DeepEqual(gotProblems, tt.problems) {
				t.Errorf("problems %q, want %q", gotProblems, tt.problems)
			}
		})
	}
}

func TestDiscoverStorageHintNamesIDs(t *testing.T) {
	r := buildFakeTree(t, fakeUSB{busPort: "3-2", vid: "12d1", pid: "14fe", ifaces: []fakeIface{{num: 0}}})
	_, problems, err := Discover(r, DefaultModels())
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Hint, "usb_modeswitch -v 0x12d1 -p 0x14fe") || problems[0].USBPath != "3-2" {
		t.Fatalf("problems %v, want one naming usb_modeswitch for 12d1:14fe at 3-2", problems)
	}
}

// Half-gone and odd entries are skipped with a problem each; the good
// device next to them is still found.
func TestDiscoverSkipsBrokenEntries(t *testing.T) {
	good := fakeUSB{busPort: "1-1.3", vid: "12d1", pid: "1001", ifaces: ifaces("ttyUSB", 0, 1, 2)}
	tests := []struct {
		name   string
		break_ func(t *testing.T, r Roots)
		entry  string
	}{
		{"class link to nowhere", func(t *testing.T, r Roots) {
			symlink(t, "../../devices/platform/sim/usb1/1-9/1-9:1.0/ttyUSB9/tty/ttyUSB9", filepath.Join(r.Sys, "class", "tty", "ttyUSB9"))
		}, "ttyUSB9"},
		{"device node gone", func(t *testing.T, r Roots) {
			os.Remove(filepath.Join(r.Dev, "ttyUSB1"))
		}, "ttyUSB1"},
		{"device subtree gone", func(t *testing.T, r Roots) {
			os.RemoveAll(filepath.Join(r.Sys, "devices", "platform", "sim", "usb1", "1-1.3", "1-1.3:1.1"))
		}, "ttyUSB1"},
		{"garbage vendor ID", func(t *testing.T, r Roots) {
			b := fakeUSB{busPort: "1-4", vid: "zz", pid: "0001", ifaces: ifaces("ttyACM", 0)}
			b.ifaces[0].acm = true
			extra := buildFakeTree(t, b)
			from := filepath.Join(extra.Sys, "devices", "platform", "sim", "usb1", "1-4")
			if err := os.Rename(from, filepath.Join(r.Sys, "devices", "platform", "sim", "usb1", "1-4")); err != nil {
				t.Fatal(err)
			}
			relLink(t, filepath.Join(r.Sys, "devices", "platform", "sim", "usb1", "1-4", "1-4:1.0", "tty", "ttyACM0"),
				filepath.Join(r.Sys, "class", "tty", "ttyACM0"))
			writeFile(t, filepath.Join(r.Dev, "ttyACM0"), "")
		}, "ttyACM0"},
		{"tty not on USB", func(t *testing.T, r Roots) {
			dir := filepath.Join(r.Sys, "devices", "platform", "sim", "ttyUSB7")
			writeFile(t, filepath.Join(dir, "tty", "ttyUSB7", "dev"), "188:7\n")
			relLink(t, dir, filepath.Join(dir, "tty", "ttyUSB7", "device"))
			relLink(t, filepath.Join(dir, "tty", "ttyUSB7"), filepath.Join(r.Sys, "class", "tty", "ttyUSB7"))
		}, "ttyUSB7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := buildFakeTree(t, good)
			tt.break_(t, r)
			devices, problems, err := Discover(r, DefaultModels())
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != 1 || problems[0].Kind != ProblemUnreadable || filepath.Base(problems[0].Path) != tt.entry || problems[0].Err == nil {
				t.Errorf("problems %v, want one unreadable %s", problems, tt.entry)
			}
			var at []string
			for _, d := range devices {
				if d.TTY == tt.entry {
					t.Errorf("broken %s listed: %+v", tt.entry, d)
				}
				if d.IsAT {
					at = append(at, d.TTY)
				}
			}
			if !reflect.DeepEqual(at, []string{"ttyUSB2"}) {
				t.Errorf("AT ports %v, want [ttyUSB2]", at)
			}
		})
	}
}

func TestDiscoverNeedsClassTTY(t *testing.T) {
	if _, _, err := Discover(Roots{Sys: t.TempDir(), Dev: t.TempDir()}, DefaultModels()); err == nil {
		t.Fatal("Discover of a tree without class/tty succeeded")
	}
}

func TestFindModel(t *testing.T) {
	tests := []struct{ vid, pid, want string }{
		{"12d1", "1001", "Huawei E1550/E173 (12d1:1001)"},
		{"12d1", "9999", "Huawei (12d1)"},
		{"19d2", "0117", "ZTE MF190 (19d2:0117)"},
		{"2c7c", "0296", "Quectel BG96 (2c7c:0296)"},
		{"1199", "9091", "Sierra Wireless EM7511/EM7565 (1199:9091)"},
		{"1e0e", "9001", "SIMCom SIM7100/SIM7600 (1e0e:9001)"},
		{"0403", "6001", ""},
	}
	for _, tt := range tests {
		m := findModel(DefaultModels(), tt.vid, tt.pid)
		got := ""
		if m != nil {
			got = m.String()
		}
		if got != tt.want {
			t.Errorf("findModel(%s:%s) = %q, want %q", tt.vid, tt.pid, got, tt.want)
		}
	}
}

func TestDefaultModelsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range DefaultModels() {
		id := m.VID + ":" + m.PID
		if seen[id] {
			t.Errorf("%s listed twice", id)
		}
		seen[id] = true
		if !hexID.MatchString(m.VID) || (m.PID != "" && !hexID.MatchString(m.PID)) {
			t.Errorf("%s: IDs must be four lowercase hex digits", id)
		}
		switch m.Mode {
		case ModeModem:
			if len(m.ATInterface) == 0 {
				t.Errorf("%s: modem without AT interface", id)
			}
		case ModeStorage, ModeHiLink:
			if len(m.ATInterface) != 0 || m.PID == "" {
				t.Errorf("%s: %s row must name one product and no AT interface", id, m.Mode)
			}
		default:
			t.Errorf("%s: unknown mode %q", id, m.Mode)
		}
	}
	for _, vid := range []string{"12d1", "19d2", "1e0e", "2c7c", "1199"} {
		if !seen[vid+":"] {
			t.Errorf("vendor %s has no vendor-wide row", vid)
		}
	}
}
