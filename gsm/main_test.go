package gsm

import (
	"testing"

	"go.uber.org/goleak"
)

// Playback tests run a real atcmd engine, whose goroutines must all end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
