// Package testtool is the one rule for tests that need an interop tool
// (gammu, promtool, chromium, systemd-analyze) or something such a tool
// needs: on a developer's machine a missing one skips the test with a
// message that says what to install and what went unchecked; under
// CI=true it fails the test, because .ci/run installs every such tool and
// a skip there would hide a check that never ran.
package testtool

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Path returns the path of the program name. install says how to get it
// ("apt-get install prometheus"), unchecked what goes unchecked without it.
func Path(t testing.TB, name, install, unchecked string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	Missing(t, "%s is not installed (%s): %s NOT checked", name, install, unchecked)
	return ""
}

// Missing skips the test with the reason, or fails it under CI=true.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI=true requires it", msg)
		return
	}
	t.Skipf("SKIPPING: %s", msg)
}
