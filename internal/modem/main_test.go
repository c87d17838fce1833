package modem

import (
	"testing"

	"go.uber.org/goleak"
)

// Run starts the owners; it returns only after they ended.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
