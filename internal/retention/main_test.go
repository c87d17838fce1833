package retention

import (
	"testing"

	"go.uber.org/goleak"
)

// Run is a loop its caller starts; it must end with its context.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
