// Package systemd_test checks the files that run gsmbridge under systemd:
// the unit with systemd's own analyzer, the udev rules against the modem
// table in package hw, install.sh in a staged tree, and the built daemon
// speaking sd_notify and writing masked JSON logs.
package systemd_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/hw"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/testtool"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// needTool finds a system tool from the Debian package pkg (see testtool
// for what happens without it).
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	return testtool.Path(t, name, "apt-get install "+pkg, "this part of the systemd files is")
}

// buildDaemon builds cmd/gsmbridge to path.
func buildDaemon(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "build", "-o", path, "../cmd/gsmbridge").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

func copyFile(t *testing.T, from, to string, mode fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

// TestUnitPassesSystemdAnalyze stages a root the way a host looks after
// install (the real binary, the unit, the distribution's units it depends
// on) and lets systemd judge it: PID 1 is not systemd here, so --root is
// what makes verify and security work offline.
func TestUnitPassesSystemdAnalyze(t *testing.T) {
	analyze := needTool(t, "systemd-analyze", "systemd")
	const hostUnits = "/usr/lib/systemd/system"
	if _, err := os.Stat(filepath.Join(hostUnits, "sysinit.target")); err != nil {
		testtool.Missing(t, "%s has no sysinit.target (apt-get install systemd): the units gsmbridge.service depends on cannot be staged, so it is NOT checked", hostUnits)
	}
	root := t.TempDir()
	buildDaemon(t, filepath.Join(root, "usr/local/bin/gsmbridge"))
	copyFile(t, "gsmbridge.service", filepath.Join(root, "etc/systemd/system/gsmbridge.service"), 0o644)
	if err := os.MkdirAll(filepath.Join(root, "usr/lib/systemd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", hostUnits, filepath.Join(root, "usr/lib/systemd/")).CombinedOutput(); err != nil {
		t.Fatalf("stage host units: %v\n%s", err, out)
	}

	t.Run("verify", func(t *testing.T) {
		// verify exits 0 on unknown keys and bad values and only prints
		// them, so any output is a failure.
		out, err := exec.Command(analyze, "verify", "--root="+root, "gsmbridge.service").CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
		}
	})
	t.Run("security", func(t *testing.T) {
		out, err := exec.Command(analyze, "security", "--offline=true", "--root="+root, "gsmbridge.service").CombinedOutput()
		if err != nil {
			t.Fatalf("systemd-analyze security: %v\n%s", err, out)
		}
		exposure, err := overallExposure(string(out))
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if exposure > 2.0 {
			t.Fatalf("exposure level %.1f, want 2.0 or lower:\n%s", exposure, out)
		}
		t.Logf("exposure level %.1f", exposure)
	})
}

var exposureLine = regexp.MustCompile(`Overall exposure level for gsmbridge\.service: (\d+(?:\.\d+)?)`)

func overallExposure(report string) (float64, error) {
	m := exposureLine.FindStringSubmatch(report)
	if m == nil {
		return 0, fmt.Errorf("no overall exposure level in the report")
	}
	return strconv.ParseFloat(m[1], 64)
}

func TestOverallExposureParsesTheReport(t *testing.T) {
	tests := []struct {
		report string
		want   float64
		ok     bool
	}{
		{"✗ PrivateNetwork= ... 0.5\n\n→ Overall exposure level for gsmbridge.service: 1.5 OK 🙂\n", 1.5, true},
		{"→ Overall exposure level for gsmbridge.service: 9.6 UNSAFE 😨", 9.6, true},
		{"→ Overall exposure level for other.service: 1.0 OK", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := overallExposure(tt.report)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("overallExposure(%q) = %v, %v; want %v (ok %v)", tt.report, got, err, tt.want, tt.ok)
		}
	}
}

// unitFile is the [Section] → key → values of a unit; repeated keys keep
// every value, in order.
type unitFile map[string]map[string][]string

func parseUnit(t *testing.T, path string) unitFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := unitFile{}
	section := ""
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a key=value in a section: %q", path, i+1, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// TestUnitKeepsTheDaemonsPromises checks what systemd-analyze cannot know:
// that the unit matches the daemon's defaults and the choices it depends on.
func TestUnitKeepsTheDaemonsPromises(t *testing.T) {
	u := parseUnit(t, "gsmbridge.service")
	svc := u["Service"]
	want := []struct{ section, key, value string }{
		{"Unit", "After", "time-sync.target network.target"},
		{"Unit", "Wants", "time-sync.target"},
		{"Service", "Type", "notify"},
		{"Service", "NotifyAccess", "main"},
		{"Service", "WatchdogSec", "30s"},
		{"Service", "Restart", "on-failure"},
		{"Service", "LimitNOFILE", "1024"},
		{"Service", "User", "gsmbridge"},
		{"Service", "Group", "gsmbridge"},
		{"Service", "SupplementaryGroups", "dialout"},
		{"Service", "StateDirectory", "gsmbridge"},
		{"Service", "ConfigurationDirectory", "gsmbridge"},
		{"Service", "DevicePolicy", "closed"},
		{"Service", "DeviceAllow", "char-ttyUSB rw"},
		{"Service", "DeviceAllow", "char-ttyACM rw"},
		{"Service", "ProtectSystem", "strict"},
		{"Service", "CapabilityBoundingSet", ""},
		{"Service", "AmbientCapabilities", ""},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "UMask", "0077"},
		{"Service", "RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"},
		{"Service", "SystemCallFilter", "@system-service"},
		{"Service", "ExecStart", "/usr/local/bin/gsmbridge serve --config /etc/gsmbridge/config.yaml --log-format json"},
		{"Install", "WantedBy", "multi-user.target"},
	}
	for _, w := range want {
		if !slices.Contains(u[w.section][w.key], w.value) {
			t.Errorf("[%s] %s=%s missing (have %q)", w.section, w.key, w.value, u[w.section][w.key])
		}
	}
	for _, off := range []string{"DynamicUser", "PrivateDevices", "PrivateUsers", "PrivateNetwork"} {
		for _, v := range svc[off] {
			if v != "no" {
				t.Errorf("%s=%s: the daemon needs the modems' ttys through dialout and serves HTTP", off, v)
			}
		}
	}

	def := config.Default()
	if got := "/var/lib/" + svc["StateDirectory"][0]; got != def.DataDir {
		t.Errorf("StateDirectory gives %s, but the default data_dir is %s: the store could not write", got, def.DataDir)
	}
	if len(svc["TimeoutStopSec"]) != 1 {
		t.Fatalf("TimeoutStopSec=%q, want one value", svc["TimeoutStopSec"])
	}
	stop, err := time.ParseDuration(svc["TimeoutStopSec"][0])
	if err != nil {
		t.Fatalf("TimeoutStopSec: %v", err)
	}
	if stop <= def.Send.CommandTimeout {
		t.Errorf("TimeoutStopSec=%s does not outlast send.command_timeout %s: a stop would kill an AT+CMGS mid-send", stop, def.Send.CommandTimeout)
	}
}

// udevRule is one rule line: its key-operator-value triples in order.
type udevRule struct {
	line  int
	terms []udevTerm
}

type udevTerm struct {
	key, attr, op, value string
}

// udevKeys says, per key, which operators udev(7) accepts: matching (==,
// !=), assigning (=, +=, -=, :=), or both. Keys with {attr} are marked.
var udevKeys = map[string]struct {
	match, assign, attr bool
}{
	"ACTION": {match: true}, "DEVPATH": {match: true}, "KERNEL": {match: true}, "KERNELS": {match: true},
	"SUBSYSTEM": {match: true}, "SUBSYSTEMS": {match: true}, "DRIVER": {match: true}, "DRIVERS": {match: true},
	"ATTRS": {match: true, attr: true}, "TAGS": {match: true}, "TEST": {match: true, attr: true},
	"PROGRAM": {match: true}, "RESULT": {match: true}, "CONST": {match: true, attr: true},
	"NAME": {match: true, assign: true}, "SYMLINK": {match: true, assign: true}, "TAG": {match: true, assign: true},
	"ENV": {match: true, assign: true, attr: true}, "ATTR": {match: true, assign: true, attr: true},
	"SYSCTL": {match: true, assign: true, attr: true},
	"OWNER":  {assign: true}, "GROUP": {assign: true}, "MODE": {assign: true}, "SECLABEL": {assign: true, attr: true},
	"RUN": {assign: true, attr: true}, "LABEL": {assign: true}, "GOTO": {assign: true},
	"IMPORT": {assign: true, attr: true}, "OPTIONS": {assign: true},
}

var udevTermRE = regexp.MustCompile(`^([A-Z]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,\s*|$)`)

// parseUdevRules reads a rules file the way udev does: comments, blank
// lines, backslash continuations, then comma-separated KEY op "value".
func parseUdevRules(text string) ([]udevRule, error) {
	var rules []udevRule
	var pending strings.Builder
	start := 0
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if pending.Len() == 0 {
			start = i + 1
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			pending.WriteString(cont)
			continue
		}
		pending.WriteString(line)
		rule, err := parseUdevLine(start, pending.String())
		pending.Reset()
		if err != nil {
			return nil, err
		}
		rules = append(rules, rule)
	}
	if pending.Len() > 0 {
		return nil, fmt.Errorf("line %d: continuation at the end of the file", start)
	}
	return rules, nil
}

func parseUdevLine(n int, s string) (udevRule, error) {
	r := udevRule{line: n}
	for rest := s; rest != ""; {
		m := udevTermRE.FindStringSubmatch(rest)
		if m == nil {
			return r, fmt.Errorf("line %d: cannot parse %q", n, rest)
		}
		term := udevTerm{key: m[1], attr: m[2], op: m[3], value: m[4]}
		spec, known := udevKeys[term.key]
		switch {
		case !known:
			return r, fmt.Errorf("line %d: unknown key %s", n, term.key)
		case spec.attr != strings.HasPrefix(m[0][len(m[1]):], "{"), spec.attr && term.attr == "":
			return r, fmt.Errorf("line %d: %s: {attribute} wrong", n, term.key)
		case (term.op == "==" || term.op == "!=") && !spec.match:
			return r, fmt.Errorf("line %d: %s cannot be matched with %s", n, term.key, term.op)
		case term.op != "==" && term.op != "!=" && !spec.assign:
			return r, fmt.Errorf("line %d: %s cannot be assigned with %s", n, term.key, term.op)
		case (term.key == "LABEL" || term.key == "GOTO") && term.op != "=":
			return r, fmt.Errorf("line %d: %s takes =", n, term.key)
		}
		r.terms = append(r.terms, term)
		rest = rest[len(m[0]):]
	}
	return r, nil
}

// udevDevice is what the simulation knows about one event's device.
type udevDevice struct {
	action, subsystem, kernel string
	parentSubsystems          []string
	attrs                     map[string]string // ATTR{} of the device itself
	env                       map[string]string
}

// udevResult is what the rules did to the device.
type udevResult struct {
	symlinks    []string
	group, mode string
	env         map[string]string
}

// udevMatch is udev's value match: shell globs, '|' between alternatives.
func udevMatch(pattern, value string) bool {
	for _, alt := range strings.Split(pattern, "|") {
		if alt == value {
			return true
		}
		if ok, err := filepath.Match(alt, value); err == nil && ok {
			return true
		}
	}
	return false
}

var udevSubst = regexp.MustCompile(`\$env\{([^}]*)\}`)

// runUdevRules plays the rules over dev, implementing the keys this file
// uses; any other key fails the test so the simulation never silently
// skips a rule.
func runUdevRules(t *testing.T, rules []udevRule, dev udevDevice) udevResult {
	t.Helper()
	res := udevResult{env: dev.env}
	labels := map[string]int{}
	for i, r := range rules {
		for _, term := range r.terms {
			if term.key == "LABEL" {
				labels[term.value] = i
			}
		}
	}
	for i := 0; i < len(rules); i++ {
		r := rules[i]
		matched := true
		var assigns []udevTerm
		for _, term := range r.terms {
			if term.op != "==" && term.op != "!=" {
				assigns = append(assigns, term)
				continue
			}
			var got bool
			switch term.key {
			case "ACTION":
				got = udevMatch(term.value, dev.action)
			case "SUBSYSTEM":
				got = udevMatch(term.value, dev.subsystem)
			case "KERNEL":
				got = udevMatch(term.value, dev.kernel)
			case "SUBSYSTEMS":
				got = slices.ContainsFunc(append([]string{dev.subsystem}, dev.parentSubsystems...), func(s string) bool { return udevMatch(term.value, s) })
			case "ENV":
				got = udevMatch(term.value, res.env[term.attr])
			case "ATTR":
				got = udevMatch(term.value, dev.attrs[term.attr])
			default:
				t.Fatalf("line %d: the simulation does not know how to match %s", r.line, term.key)
			}
			if got != (term.op == "==") {
				matched = false
				break
			}
		}
		if !matched {
			continue
		}
		for _, term := range assigns {
			value := udevSubst.ReplaceAllStringFunc(term.value, func(s string) string {
				return res.env[udevSubst.FindStringSubmatch(s)[1]]
			})
			switch term.key {
			case "LABEL":
			case "IMPORT": // the builtins' results are in dev.env already
			case "GOTO":
				to, ok := labels[term.value]
				if !ok {
					t.Fatalf("line %d: GOTO %q has no LABEL", r.line, term.value)
				}
				i = to - 1 // the loop's i++ lands on the label's line
			case "ENV":
				res.env[term.attr] = value
			case "SYMLINK":
				res.symlinks = append(res.symlinks, value)
			case "GROUP":
				res.group = value
			case "MODE":
				res.mode = value
			default:
				t.Fatalf("line %d: the simulation does not know how to assign %s", r.line, term.key)
			}
		}
	}
	return res
}

func TestUdevRulesAreWellFormed(t *testing.T) {
	b, err := os.ReadFile("99-gsmbridge.rules")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseUdevRules(string(b)); err != nil {
		t.Fatal(err)
	}
	bad := []struct{ name, text string }{
		{"unknown key", `FOO=="bar"`},
		{"assign to a match-only key", `KERNEL="ttyUSB0"`},
		{"match an assign-only key", `GROUP=="dialout"`},
		{"missing quotes", `SUBSYSTEM==tty`},
		{"ENV without a name", `ENV="1"`},
		{"GOTO with +=", `GOTO+="x"`},
		{"dangling continuation", "SUBSYSTEM==\"tty\", \\"},
	}
	for _, tt := range bad {
		if _, err := parseUdevRules(tt.text); err == nil {
			t.Errorf("%s: %q accepted", tt.name, tt.text)
		}
	}
}

// TestUdevRulesNameEveryKnownATPort plays the rules over every row of
// hw.DefaultModels and every interface 0-5: the AT interfaces, and only
// they, get a /dev/gsm name; every tty of a known vendor is kept from
// ModemManager. Vendor-wide rows are tried with a product the table does
// not list.
func TestUdevRulesNameEveryKnownATPort(t *testing.T) {
	b, err := os.ReadFile("99-gsmbridge.rules")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := parseUdevRules(string(b))
	if err != nil {
		t.Fatal(err)
	}
	const idPath = "pci-0000:00:14.0-usb-0:1.4:1.2"
	models := hw.DefaultModels()
	tried := map[string]bool{}
	for _, m := range models {
		pid := m.PID
		if pid == "" {
			pid = "ffff"
		}
		for iface := range 6 {
			num := fmt.Sprintf("%02x", iface)
			dev := udevDevice{
				action: "add", subsystem: "tty", kernel: "ttyUSB3", parentSubsystems: []string{"usb-serial", "usb"},
				env: map[string]string{"ID_VENDOR_ID": m.VID, "ID_MODEL_ID": pid, "ID_USB_INTERFACE_NUM": num, "ID_PATH": idPath},
			}
			res := runUdevRules(t, rules, dev)
			var want []string
			if m.Mode == hw.ModeModem && slices.Contains(m.ATInterface, iface) {
				want = []string{"gsm/" + idPath + "-if" + num}
			}
			if !slices.Equal(res.symlinks, want) {
				t.Errorf("%s %s:%s (%s) interface %s: symlinks %q, want %q", m.Vendor, m.VID, pid, m.Name, num, res.symlinks, want)
			}
			if res.env["ID_MM_DEVICE_IGNORE"] != "1" || res.group != "dialout" || res.mode != "0660" {
				t.Errorf("%s %s:%s interface %s: ModemManager ignore %q, group %q, mode %q", m.Vendor, m.VID, pid, num, res.env["ID_MM_DEVICE_IGNORE"], res.group, res.mode)
			}
		}
		usb := runUdevRules(t, rules, udevDevice{action: "add", subsystem: "usb", attrs: map[string]string{"idVendor": m.VID},
			env: map[string]string{"DEVTYPE": "usb_device"}})
		if usb.env["ID_MM_DEVICE_IGNORE"] != "1" {
			t.Errorf("%s %s: the USB device is not hidden from ModemManager", m.Vendor, m.VID)
		}
		tried[m.VID] = true
	}
	if len(tried) < 5 {
		t.Fatalf("only vendors %v tried", tried)
	}

	others := []struct {
		name string
		dev  udevDevice
	}{
		{"another vendor's serial adapter", udevDevice{action: "add", subsystem: "tty", kernel: "ttyUSB0", parentSubsystems: []string{"usb"},
			env: map[string]string{"ID_VENDOR_ID": "0403", "ID_MODEL_ID": "6001", "ID_USB_INTERFACE_NUM": "02", "ID_PATH": idPath}}},
		{"a known modem's port going away", udevDevice{action: "remove", subsystem: "tty", kernel: "ttyUSB2", parentSubsystems: []string{"usb"},
			env: map[string]string{"ID_VENDOR_ID": "12d1", "ID_MODEL_ID": "1001", "ID_USB_INTERFACE_NUM": "02", "ID_PATH": idPath}}},
		{"a known modem seen without its USB path", udevDevice{action: "add", subsystem: "tty", kernel: "ttyUSB2", parentSubsystems: []string{"usb"},
			env: map[string]string{"ID_VENDOR_ID": "12d1", "ID_MODEL_ID": "1001", "ID_USB_INTERFACE_NUM": "02"}}},
	}
	for _, o := range others {
		if res := runUdevRules(t, rules, o.dev); len(res.symlinks) > 0 {
			t.Errorf("%s: symlinks %q", o.name, res.symlinks)
		}
	}
}

// TestInstallStagesTheTree runs install.sh with DESTDIR, as packaging
// does: every file lands with its mode, and a second run keeps the
// operator's edited configuration.
func TestInstallStagesTheTree(t *testing.T) {
	needTool(t, "install", "coreutils")
	dest := t.TempDir()
	binary := filepath.Join(t.TempDir(), "gsmbridge")
	if err := os.WriteFile(binary, []byte("#!/bin/sh\necho gsmbridge\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	install := func() {
		t.Helper()
		cmd := exec.Command("sh", "install.sh", binary)
		cmd.Env = append(os.Environ(), "DESTDIR="+dest)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("install.sh: %v\n%s", err, out)
		}
	}
	install()
	example, err := os.ReadFile("../internal/config/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := []struct {
		path string
		mode fs.FileMode
		from string // repository file it must equal; "" to skip
	}{
		{"usr/local/bin/gsmbridge", 0o755, binary},
		{"etc/systemd/system/gsmbridge.service", 0o644, "gsmbridge.service"},
		{"etc/udev/rules.d/99-gsmbridge.rules", 0o644, "99-gsmbridge.rules"},
		{"usr/local/share/doc/gsmbridge/README.md", 0o644, "README.md"},
		{"etc/modules-load.d/gsmbridge.conf", 0o644, ""},
		{"etc/gsmbridge", fs.ModeDir | 0o750, ""},
		{"etc/gsmbridge/config.yaml", 0o640, "../internal/config/example.yaml"},
	}
	for _, f := range files {
		st, err := os.Stat(filepath.Join(dest, f.path))
		if err != nil {
			t.Errorf("%s not installed: %v", f.path, err)
			continue
		}
		if st.Mode() != f.mode {
			t.Errorf("%s: mode %v, want %v", f.path, st.Mode(), f.mode)
		}
		if f.from == "" {
			continue
		}
		got, _ := os.ReadFile(filepath.Join(dest, f.path))
		want, err := os.ReadFile(f.from)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s", f.path, f.from)
		}
	}
	modules, _ := os.ReadFile(filepath.Join(dest, "etc/modules-load.d/gsmbridge.conf"))
	for _, mod := range []string{"option", "cdc_acm"} {
		if !slices.Contains(strings.Split(string(modules), "\n"), mod) {
			t.Errorf("modules-load.d/gsmbridge.conf does not load %s:\n%s", mod, modules)
		}
	}

	config := filepath.Join(dest, "etc/gsmbridge/config.yaml")
	edited := append(slices.Clip(example), []byte("# edited by the operator\n")...)
	if err := os.WriteFile(config, edited, 0o640); err != nil {
		t.Fatal(err)
	}
	install()
	if got, _ := os.ReadFile(config); !bytes.Equal(got, edited) {
		t.Fatal("a second install overwrote the operator's config.yaml")
	}
}

func TestInstallRejectsWhatItCannotInstall(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"two binaries", []string{"a", "b"}, 2},
		{"binary missing", []string{filepath.Join(t.TempDir(), "nothing")}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("sh", append([]string{"install.sh"}, tt.args...)...)
			cmd.Env = append(os.Environ(), "DESTDIR="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != tt.code {
				t.Fatalf("exit %v, want %d\n%s", err, tt.code, out)
			}
		})
	}
}

// TestServeUnderSystemd runs the built daemon as the unit does (--log-format
// json, NOTIFY_SOCKET, WATCHDOG_USEC) on simulated modems, sends one SMS
// and stops it with SIGTERM: systemd must hear READY=1, WATCHDOG=1 and
// STOPPING=1, and the journal must get JSON lines that never carry a full
// phone number or the message text.
func TestServeUnderSystemd(t *testing.T) {
	binary := filepath.Join(t.TempDir(), "gsmbridge")
	buildDaemon(t, binary)
	notifyDir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(notifyDir)
	socket := filepath.Join(notifyDir, "notify")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	waitNotify := func(want string) {
		t.Helper()
		buf := make([]byte, 4096)
		notify.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			n, err := notify.Read(buf)
			if err != nil {
				t.Fatalf("waiting for %s from the daemon: %v", want, err)
			}
			if slices.Contains(strings.Split(string(buf[:n]), "\n"), want) {
				return
			}
		}
	}

	// A fixed port: with :0 the daemon cannot tell its watchdog where to
	// GET /healthz (Run does not hand the chosen address on).
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := free.Addr().String()
	free.Close()
	cmd := exec.Command(binary, "serve", "--modemsim", "--log-format", "json", "--listen", listen, "--data-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+socket, "WATCHDOG_USEC=1000000", "WATCHDOG_PID=")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	defer func() {
		if !exited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	// The daemon prints its simulated SIMs' and phones' numbers and its
	// address on stdout before it serves.
	numbers := regexp.MustCompile(`\+\d{11}`)
	var secrets []string
	var api string
	lines := bufio.NewScanner(stdout)
	for api == "" && lines.Scan() {
		secrets = append(secrets, numbers.FindAllString(lines.Text(), -1)...)
		if addr, ok := strings.CutPrefix(lines.Text(), "gsmbridge listening on "); ok {
			api = addr
		}
	}
	if api == "" || len(secrets) < 2 {
		t.Fatalf("no address or numbers on stdout (address %q, numbers %q): %v\n%s", api, secrets, lines.Err(), logs.String())
	}
	go func() {
		for lines.Scan() {
		}
	}()
	waitNotify("READY=1")
	waitNotify("WATCHDOG=1")

	const text = "Payment 4711.25 RUB received, code 90210"
	customer := secrets[len(secrets)-1]
	body, _ := json.Marshal(map[string]string{"to": customer, "text": text})
	resp, err := http.Post(api+"/v1/messages", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var msg struct{ ID, State string }
	json.NewDecoder(resp.Body).Decode(&msg)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 || msg.ID == "" {
		t.Fatalf("POST /v1/messages: %s", resp.Status)
	}
	deadline := time.Now().Add(30 * time.Second)
	for msg.State != "sent" && msg.State != "delivered" {
		if time.Now().After(deadline) {
			t.Fatalf("message still %q", msg.State)
		}
		time.Sleep(50 * time.Millisecond) // polling the API for an outcome, not ordering goroutines
		resp, err := http.Get(api + "/v1/messages/" + msg.ID)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&msg)
		resp.Body.Close()
	}
	http.DefaultClient.CloseIdleConnections()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitNotify("STOPPING=1")
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, logs.String())
	}

	journal := strings.TrimRight(logs.String(), "\n")
	if journal == "" {
		t.Fatal("no log lines")
	}
	for i, line := range strings.Split(journal, "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("log line %d is not JSON: %q", i+1, line)
			continue
		}
		if entry["msg"] == nil || entry["level"] == nil || entry["time"] == nil {
			t.Errorf("log line %d lacks time, level or msg: %q", i+1, line)
		}
		for _, s := range append(secrets, text, strings.TrimPrefix(customer, "+")) {
			if strings.Contains(line, s) {
				t.Errorf("log line %d carries %q unmasked: %s", i+1, s, line)
			}
		}
	}
}
