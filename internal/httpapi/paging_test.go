package httpapi

import (
	"testing"
	"time"
)

func TestWaitIsCapped(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"", 0, false},
		{"0s", 0, false},
		{"30s", 30 * time.Second, false},
		{"60s", 60 * time.Second, false},
		{"5m", MaxLongPoll, false},
		{"-1s", 0, true},
		{"30", 0, true},
		{"soon", 0, true},
	}
	for _, tc := range cases {
		got, err := ParseWait(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseWait(%q) = %v, %v; want %v (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

// The scheme's name is case-insensitive (RFC 9110, section 11.1).
func TestBearerTokenAnyCase(t *testing.T) {
	tests := []struct{ header, want string }{
		{"Bearer tok", "tok"},
		{"bearer tok", "tok"},
		{"BEARER tok", "tok"},
		{"Bearer  tok", "tok"},
		{"Basic dG9rOg==", ""},
		{"Bearertok", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := BearerToken(tt.header); got != tt.want {
			t.Errorf("BearerToken(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}
