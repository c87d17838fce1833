package main

import (
	"strings"
	"testing"
)

// mixed is `go test -json` of a module with a package that does not build
// and one whose tests skip, fail and panic (times dropped).
const mixed = `
{"ImportPath":"x/b [x/b.test]","Action":"build-output","Output":"# x/b [x/b.test]\n"}
{"ImportPath":"x/b [x/b.test]","Action":"build-output","Output":"b/b_test.go:3:28: undefined: undefined\n"}
{"ImportPath":"x/b [x/b.test]","Action":"build-fail"}
{"Action":"start","Package":"x/a"}
{"Action":"start","Package":"x/b"}
{"Action":"output","Package":"x/b","Output":"FAIL\tx/b [build failed]\n"}
{"Action":"fail","Package":"x/b","Elapsed":0,"FailedBuild":"x/b [x/b.test]"}
{"Action":"run","Package":"x/a","Test":"TestSkip"}
{"Action":"output","Package":"x/a","Test":"TestSkip","Output":"=== RUN   TestSkip\n"}
{"Action":"output","Package":"x/a","Test":"TestSkip","Output":"    a_test.go:3: SKIPPING: no tool\n"}
{"Action":"output","Package":"x/a","Test":"TestSkip","Output":"--- SKIP: TestSkip (0.00s)\n"}
{"Action":"skip","Package":"x/a","Test":"TestSkip","Elapsed":0}
{"Action":"run","Package":"x/a","Test":"TestFail"}
{"Action":"output","Package":"x/a","Test":"TestFail","Output":"=== RUN   TestFail\n"}
{"Action":"output","Package":"x/a","Test":"TestFail","Output":"    a_test.go:4: why\n"}
{"Action":"output","Package":"x/a","Test":"TestFail","Output":"    a_test.go:4: boom\n"}
{"Action":"output","Package":"x/a","Test":"TestFail","Output":"--- FAIL: TestFail (0.00s)\n"}
{"Action":"fail","Package":"x/a","Test":"TestFail","Elapsed":0}
{"Action":"run","Package":"x/a","Test":"TestPanic"}
{"Action":"output","Package":"x/a","Test":"TestPanic","Output":"=== RUN   TestPanic\n"}
{"Action":"output","Package":"x/a","Test":"TestPanic","Output":"--- FAIL: TestPanic (0.00s)\n"}
{"Action":"output","Package":"x/a","Test":"TestPanic","Output":"panic: oops [recovered, repanicked]\n"}
{"Action":"fail","Package":"x/a","Test":"TestPanic","Elapsed":0}
{"Action":"output","Package":"x/a","Output":"FAIL\tx/a\t0.015s\n"}
{"Action":"fail","Package":"x/a","Elapsed":0.016}
`

// passing has a package that passes and one without tests, and a test that
// logged something while passing.
const passing = `{"Action":"start","Package":"x/c"}
{"Action":"run","Package":"x/c","Test":"TestOK"}
{"Action":"output","Package":"x/c","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"x/c","Test":"TestOK","Output":"    c_test.go:9: chatter of a passing test\n"}
{"Action":"output","Package":"x/c","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}
{"Action":"pass","Package":"x/c","Test":"TestOK"}
{"Action":"output","Package":"x/c","Output":"PASS\n"}
{"Action":"output","Package":"x/c","Output":"ok  \tx/c\t0.010s\n"}
{"Action":"pass","Package":"x/c"}
{"Action":"output","Package":"x/d","Output":"?   \tx/d\t[no test files]\n"}
{"Action":"skip","Package":"x/d"}
`

// timedOut is a test binary killed by -timeout: the running test never
// gets its own end event.
const timedOut = `{"Action":"run","Package":"x/e","Test":"TestSlow"}
{"Action":"output","Package":"x/e","Test":"TestSlow","Output":"=== RUN   TestSlow\n"}
{"Action":"output","Package":"x/e","Test":"TestSlow","Output":"    e_test.go:5: waiting for the modem\n"}
{"Action":"output","Package":"x/e","Output":"panic: test timed out after 1s\n"}
{"Action":"output","Package":"x/e","Output":"FAIL\tx/e\t1.005s\n"}
{"Action":"fail","Package":"x/e"}
`

func TestReport(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
		want     []string
		wantNot  []string
	}{
		{"mixed", strings.TrimPrefix(mixed, "\n"), false, []string{
			"b/b_test.go:3:28: undefined: undefined\n",
			"FAIL\tx/b [build failed]\n",
			"    a_test.go:4: boom\n--- FAIL: TestFail (0.00s)\n",
			"panic: oops",
			"FAIL\tx/a\t0.015s\n",
			"\nSkipped tests (1):\n  x/a TestSkip: a_test.go:3: SKIPPING: no tool\n",
			"\ntests: 0 passed, 2 failed, 1 skipped\n",
		}, []string{"=== RUN   TestSkip"}},
		{"passing", passing, true, []string{
			"ok  \tx/c\t0.010s\n",
			"?   \tx/d\t[no test files]\n",
			"\ntests: 1 passed, 0 failed, 0 skipped\n",
		}, []string{"chatter of a passing test", "PASS\n", "Skipped tests"}},
		{"timed out", timedOut, false, []string{
			"panic: test timed out after 1s\n",
			"--- TestSlow did not finish:\n=== RUN   TestSlow\n    e_test.go:5: waiting for the modem\n",
		}, nil},
		{"not JSON", "go: downloading something\n", true, []string{"go: downloading something\n"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			if ok := report(strings.NewReader(tc.in), &out); ok != tc.ok {
				t.Errorf("report = %v, want %v", ok, tc.ok)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(out.String(), w) {
					t.Errorf("output shows %q:\n%s", w, out.String())
				}
			}
		})
	}
}
