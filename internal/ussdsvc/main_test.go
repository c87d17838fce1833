package ussdsvc

import (
	"testing"

	"go.uber.org/goleak"
)

// Run starts the reaper and the balance schedule; both must end with its
// context.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
