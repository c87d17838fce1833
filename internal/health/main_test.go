package health

import (
	"testing"

	"go.uber.org/goleak"
)

// The store check runs its probe write aside; it must end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
