package client_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/gsmbridge/gsmbridge/client"
)

// An id reaches the daemon as the caller gave it, whatever characters it
// holds: escaped once, not twice, so "a/b" is not "a%2Fb" to the server.
func TestIDsReachTheDaemonIntact(t *testing.T) {
	var mu sync.Mutex
	var got []string
	mux := http.NewServeMux()
	for _, pattern := range []string{
		"GET /v1/messages/{id}", "DELETE /v1/messages/{id}", "GET /v1/confirmations/{id}", "DELETE /v1/confirmations/{id}",
		"GET /v1/modems/{id}", "POST /v1/sims/{id}/resume", "POST /v1/ussd/{id}/reply", "DELETE /v1/ussd/{id}",
		"POST /v1/hosts/{id}/release",
	} {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = append(got, r.Method+" "+r.PathValue("id"))
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{}`))
		})
	}
	c := daemonClient(t, mux)
	ctx := context.Background()
	calls := []struct {
		method string
		call   func(id string) error
	}{
		{"GET", func(id string) error { _, err := c.Messages.Get(ctx, id); return err }},
		{"DELETE", func(id string) error { _, err := c.Messages.Cancel(ctx, id); return err }},
		{"GET", func(id string) error { _, err := c.Confirmations.Get(ctx, id, 0, 0); return err }},
		{"DELETE", func(id string) error { _, err := c.Confirmations.Cancel(ctx, id); return err }},
		{"GET", func(id string) error { _, err := c.Modems.Get(ctx, id); return err }},
		{"POST", func(id string) error { _, err := c.SIMs.Resume(ctx, id); return err }},
		{"POST", func(id string) error { _, err := c.USSD.Reply(ctx, id, "1"); return err }},
		{"DELETE", func(id string) error { _, err := c.USSD.End(ctx, id); return err }},
		{"POST", func(id string) error { _, err := c.Hosts.Release(ctx, id); return err }},
	}
	for _, id := range []string{"plain-1", "a/b", "50%off", "a%2Fb", "sp ace", "q?x=1", "h#1", "pay:1", "Платёж"} {
		for _, call := range calls {
			mu.Lock()
			got = got[:0]
			mu.Unlock()
			if err := call.call(id); err != nil {
				t.Fatalf("%s %q: %v", call.method, id, err)
			}
			mu.Lock()
			if len(got) != 1 || got[0] != call.method+" "+id {
				t.Errorf("%s %q reached the daemon as %q", call.method, id, got)
			}
			mu.Unlock()
		}
	}
}

// A Request's Path is escaped by its caller; the client sends it as it is.
func TestRequestPathIsSentAsEscaped(t *testing.T) {
	var raw string
	c := daemonClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw = r.URL.EscapedPath()
		w.Write([]byte(`{}`))
	}))
	if _, err := c.Do(context.Background(), client.Request{Method: "GET", Path: "/v1/messages/a%2Fb%25"}, nil); err != nil {
		t.Fatal(err)
	}
	if raw != "/v1/messages/a%2Fb%25" {
		t.Fatalf("path %q, want /v1/messages/a%%2Fb%%25", raw)
	}
	if _, err := c.Do(context.Background(), client.Request{Method: "GET", Path: "/v1/messages/%zz"}, nil); err == nil {
		t.Fatal("a malformed escape was sent")
	}
}
