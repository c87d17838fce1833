package confirm

import (
	"testing"

	"go.uber.org/goleak"
)

// Run is a goroutine of its caller; it must end with its context.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
