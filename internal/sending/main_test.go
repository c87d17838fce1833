package sending

import (
	"testing"

	"go.uber.org/goleak"
)

// Run is the caller's goroutine and must end with its context.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
