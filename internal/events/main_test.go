package events

import (
	"testing"

	"go.uber.org/goleak"
)

// Run starts a goroutine per endpoint; all must end with its context.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
