package ussdsvc

import (
	"fmt"
	"testing"
	"time"
)

func TestBalanceChecksSpreadOverTheWholeStaggerWindow(t *testing.T) {
	window := 10 * time.Minute
	latest := time.Duration(0)
	for i := 0; i < 200; i++ {
		off := staggerOffset(fmt.Sprintf("89701%014d", i), window)
		if off < 0 || off >= window {
			t.Fatalf("offset %s outside the window", off)
		}
		latest = max(latest, off)
	}
	if latest < window/2 {
		t.Fatalf("200 SIMs all checked within %s of a %s window", latest, window)
	}
}
