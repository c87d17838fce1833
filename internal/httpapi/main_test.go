package httpapi

import (
	"testing"

	"go.uber.org/goleak"
)

// The listener tests run servers and clients, whose goroutines must all end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
