package payment

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoDatabaseLinked keeps the rules free of I/O: the package must build
// without SQL or a database driver, so its tests need no SQLite and the store
// stays the only place that writes.
func TestNoDatabaseLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 5 {
		t.Fatalf("go list -deps listed %v: too few to be real", deps)
	}
	for _, d := range deps {
		if d == "database/sql" || strings.Contains(d, "sqlite") || strings.Contains(d, "/daemon") ||
			strings.HasPrefix(d, "net/") || d == "net" || d == "os/exec" {
			t.Errorf("payment links %s", d)
		}
	}
}
