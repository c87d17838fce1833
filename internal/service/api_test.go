package service

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/httpapi"
)

func TestLongPollWaitIsCappedInsideTheWriteTimeout(t *testing.T) {
	// A held answer, read once more when the wait ends, must still be
	// written before the server gives up on the connection.
	if httpapi.MaxLongPoll+10*time.Second > httpapi.ServerWriteTimeout {
		t.Errorf("long polls of %v leave no room in a %v write timeout", httpapi.MaxLongPoll, httpapi.ServerWriteTimeout)
	}
}

// A path the API has, asked with a method it does not take, is a 405 that
// names the methods it does take; a path it does not have is a 404. Both
// answer in JSON, and neither reaches a handler or needs a token.
func TestWrongMethodIs405WithAllow(t *testing.T) {
	d := bareDaemon(t, "a-token")
	cases := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"PUT", "/v1/messages", 405, "GET, HEAD, POST"},
		{"PATCH", "/v1/messages/m-1", 405, "DELETE, GET, HEAD"},
		{"GET", "/v1/quote", 405, "POST"},
		{"DELETE", "/healthz", 405, "GET, HEAD"},
		{"POST", "/", 405, "GET, HEAD"},
		{"OPTIONS", "/v1/ussd/s-1", 405, "DELETE"},
		{"GET", "/v1/ussd/s-1/reply", 405, "POST"},
		{"GET", "/v1/nothing", 404, ""},
		{"POST", "/v1/nothing", 404, ""},
		{"GET", "/favicon.ico", 404, ""},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(c.method, c.path, nil)
		req.Host = "127.0.0.1:8780" // past the browser guards
		req.Header.Set("Content-Type", "application/json")
		d.Handler().ServeHTTP(rec, req)
		var body struct{ Error httpapi.Error }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code == "" {
			t.Errorf("%s %s: body %q is not a JSON error (%v)", c.method, c.path, rec.Body, err)
		}
		if rec.Code != c.status || rec.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q, want %d Allow %q", c.method, c.path, rec.Code, rec.Header().Get("Allow"), c.status, c.allow)
		}
	}
	// The methods named must be served there.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("HEAD", "/healthz", nil)
	req.Host = "127.0.0.1:8780"
	d.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("HEAD /healthz: %d, want 200", rec.Code)
	}
}
