package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A port another process holds is refused; a modem program of another user
// that cannot be inspected is only warned about.
func TestDirectModeRefusesHeldPortsAndWarnsAboutUnverifiable(t *testing.T) {
	root := t.TempDir()
	dev := filepath.Join(root, "ttyUSB2")
	proc := filepath.Join(root, "proc")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(dev, nil, 0o600))
	process := func(pid, comm string) string {
		must(os.MkdirAll(filepath.Join(proc, pid), 0o755))
		must(os.WriteFile(filepath.Join(proc, pid, "comm"), []byte(comm+"\n"), 0o644))
		return filepath.Join(proc, pid, "fd")
	}
	// ModemManager of root: its descriptors cannot be read (a file stands
	// in for the directory, as the tests run as root).
	must(os.WriteFile(process("812", "ModemManager"), nil, 0o600))

	var warn bytes.Buffer
	if err := checkNotHeld(proc, dev, &warn); err != nil {
		t.Fatalf("refused for an unverifiable holder: %v", err)
	}
	if !strings.Contains(warn.String(), "ModemManager (pid 812, run by another user") {
		t.Fatalf("warning %q", warn.String())
	}

	fd := process("90", "minicom")
	must(os.MkdirAll(fd, 0o755))
	must(os.Symlink(dev, filepath.Join(fd, "3")))
	err := checkNotHeld(proc, dev, &warn)
	if !errors.Is(err, errPortHeld) || !strings.Contains(err.Error(), "minicom (pid 90)") {
		t.Fatalf("held by minicom: %v", err)
	}
}
