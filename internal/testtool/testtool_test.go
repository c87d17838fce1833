package testtool

import (
	"fmt"
	"strings"
	"testing"
)

// outcome records what a test helper did instead of ending the test.
type outcome struct {
	testing.TB
	skipped, failed string
}

func (o *outcome) Helper()                        {}
func (o *outcome) Skipf(format string, a ...any)  { o.skipped = fmt.Sprintf(format, a...) }
func (o *outcome) Fatalf(format string, a ...any) { o.failed = fmt.Sprintf(format, a...) }

func TestMissingToolSkipsOrFailsUnderCI(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, tc := range []struct {
		ci                 string
		wantSkip, wantFail bool
	}{
		{"", true, false},
		{"false", true, false},
		{"true", false, true},
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			o := &outcome{TB: t}
			if p := Path(o, "promtool", "apt-get install prometheus", "the alert rules are"); p != "" {
				t.Fatalf("Path = %q for a missing tool", p)
			}
			if (o.skipped != "") != tc.wantSkip || (o.failed != "") != tc.wantFail {
				t.Fatalf("skipped %q, failed %q; want skip %v, fail %v", o.skipped, o.failed, tc.wantSkip, tc.wantFail)
			}
			msg := o.skipped + o.failed
			for _, want := range []string{"promtool", "apt-get install prometheus", "the alert rules are NOT checked"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not say %q", msg, want)
				}
			}
		})
	}
}

func TestPresentToolIsFound(t *testing.T) {
	t.Setenv("CI", "true")
	o := &outcome{TB: t}
	if p := Path(o, "go", "install Go", "nothing is"); p == "" || o.failed != "" || o.skipped != "" {
		t.Fatalf("Path(go) = %q, failed %q, skipped %q", p, o.failed, o.skipped)
	}
}
