package receiving

import (
	"testing"

	"go.uber.org/goleak"
)

// Run starts a goroutine that must end with its context.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
