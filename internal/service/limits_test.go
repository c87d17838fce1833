package service

import (
	"net/http"
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/config"
)

func TestLongPollsPastTheCapGet429(t *testing.T) {
	h := startHarnessWith(t, func(c *config.Config) { c.LimitsHTTP.MaxLongPolls = 1 })
	done := make(chan int, 1)
	go func() {
		var out any
		done <- h.do("GET", "/v1/events?wait=2s&after=999999", nil, &out)
	}()
	eventually(t, "first long poll waiting", func() bool { return h.d.longPolls.Waiting() == 1 })
	var e struct{ Error struct{ Code string } }
	if code := h.do("GET", "/v1/events?wait=2s&after=999999", nil, &e); code != http.StatusTooManyRequests {
		t.Fatalf("second long poll: %d, want 429", code)
	}
	if e.Error.Code != "too_many_long_polls" {
		t.Fatalf("code %q", e.Error.Code)
	}
	// A plain request still gets through while the long poll waits.
	var ev any
	if code := h.do("GET", "/v1/events", nil, &ev); code != http.StatusOK {
		t.Fatalf("plain request: %d", code)
	}
	if code := <-done; code != http.StatusOK {
		t.Fatalf("the waiting long poll ended with %d", code)
	}
}
