package events

import "testing"

func TestEndpointLabelDropsCredentials(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://hooks.example.com/gsm", "https://hooks.example.com/gsm"},
		{"https://user:pass@hooks.example.com/gsm?token=abc#frag", "https://hooks.example.com/gsm"},
		{"http://10.0.0.5:8080", "http://10.0.0.5:8080"},
		{"://bad", "invalid"},
	} {
		if got := endpointLabel(tc.url); got != tc.want {
			t.Errorf("endpointLabel(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}
