package daemon

import (
	"testing"
	"time"
)

func TestLongPollWaitIsCappedInsideTheWriteTimeout(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"", 0, false},
		{"0s", 0, false},
		{"30s", 30 * time.Second, false},
		{"60s", 60 * time.Second, false},
		{"5m", maxLongPoll, false},
		{"-1s", 0, true},
		{"30", 0, true},
		{"soon", 0, true},
	}
	for _, tc := range cases {
		got, err := parseWait(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("parseWait(%q) = %v, %v; want %v (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
	// A held answer plus the store poll that ends it must still be
	// written before the server gives up on the connection.
	if maxLongPoll+longPollEvery+10*time.Second > serverWriteTimeout {
		t.Errorf("long polls of %v leave no room in a %v write timeout", maxLongPoll, serverWriteTimeout)
	}
}
