package hw

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// childOpenEnv makes the test binary, re-run as another user, try one Open
// and report the outcome on stdout instead of running the tests.
const childOpenEnv = "HW_TEST_CHILD_OPEN"

func TestMain(m *testing.M) {
	if path := os.Getenv(childOpenEnv); path != "" {
		os.Exit(childOpen(path))
	}
	goleak.VerifyTestMain(m)
}

func childOpen(path string) int {
	p, err := Open(path, PortConfig{})
	switch {
	case err == nil:
		p.Close()
		fmt.Println("opened")
	case errors.Is(err, ErrPortBusy):
		fmt.Println("busy")
	default:
		fmt.Println("error:", err)
	}
	return 0
}
