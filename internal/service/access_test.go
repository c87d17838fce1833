package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

const guardMessage = `{"to":"+79161234567","text":"Код 1"}`

// serveDaemon builds a daemon without modems, lets adjust change its
// configuration, and serves its handler on loopback.
func serveDaemon(t *testing.T, adjust func(*config.Config)) (*Service, *httptest.Server) {
	t.Helper()
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = t.TempDir()
	if adjust != nil {
		adjust(cfg)
	}
	d, err := New(cfg, Options{Observe: checkAnswers(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(func() {
		srv.Close()
		d.store.Close()
	})
	return d, srv
}

func storedMessages(t *testing.T, d *Service) int {
	t.Helper()
	list, _, err := d.store.Messages.ListMessages(context.Background(), store.MessageFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

type answer struct {
	status int
	body   struct {
		Error httpapi.Error `json:"error"`
	}
	raw string
}

func request(t *testing.T, method, url, body string, header map[string]string, host string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(raw)}
	json.Unmarshal(raw, &a.body)
	return a
}

// A page in a browser can post "simple" requests anywhere and, by DNS
// rebinding, read answers under a name of its own: each guard refuses
// its part, and a refused send leaves no message in the store.
func TestBrowserGuards(t *testing.T) {
	d, srv := serveDaemon(t, func(c *config.Config) {
		c.HTTP.AllowedOrigins = []string{"https://ops.example.com"}
		c.HTTP.AllowedHosts = []string{"gsm.example.com"}
	})
	self := srv.URL // http://127.0.0.1:port
	port := strings.TrimPrefix(self, "http://127.0.0.1")
	json := map[string]string{"Content-Type": "application/json"}
	with := func(kv ...string) map[string]string {
		h := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}
	tests := []struct {
		name         string
		method, path string
		header       map[string]string
		host         string
		wantStatus   int
		wantCode     string
		stored       bool // the request leaves a message behind
	}{
		{"JSON send", "POST", "/v1/messages", json, "", 202, "", true},
		{"JSON with charset", "POST", "/v1/messages", with("Content-Type", "application/json; charset=utf-8"), "", 202, "", true},
		{"text/plain, as a page's simple request", "POST", "/v1/messages", with("Content-Type", "text/plain"), "", 415, "unsupported_media_type", false},
		{"form, as curl -d sends", "POST", "/v1/messages", with("Content-Type", "application/x-www-form-urlencoded"), "", 415, "unsupported_media_type", false},
		{"no content type", "POST", "/v1/messages", nil, "", 415, "unsupported_media_type", false},
		{"a DELETE too", "DELETE", "/v1/messages/msg_none", nil, "", 415, "unsupported_media_type", false},
		{"a GET needs none", "GET", "/v1/messages", nil, "", 200, "", false},
		{"another origin", "POST", "/v1/messages", with("Content-Type", "application/json", "Origin", "http://evil.example"), "", 403, "forbidden_origin", false},
		{"another port is another origin", "POST", "/v1/messages", with("Content-Type", "application/json", "Origin", "http://127.0.0.1:1"), "", 403, "forbidden_origin", false},
		{"a sandboxed page", "POST", "/v1/messages", with("Content-Type", "application/json", "Origin", "null"), "", 403, "forbidden_origin", false},
		{"a cross-origin read", "GET", "/v1/messages", with("Origin", "http://evil.example"), "", 403, "forbidden_origin", false},
		{"the daemon's own page", "POST", "/v1/messages", with("Content-Type", "application/json", "Origin", self), "", 202, "", true},
		{"a configured origin", "POST", "/v1/messages", with("Content-Type", "application/json", "Origin", "https://ops.example.com"), "", 202, "", true},
		{"DNS rebinding: an unknown name", "GET", "/v1/messages", nil, "evil.example" + port, 403, "forbidden_host", false},
		{"rebinding a send", "POST", "/v1/messages", json, "evil.example" + port, 403, "forbidden_host", false},
		{"rebinding the status", "GET", "/v1/status", nil, "evil.example" + port, 403, "forbidden_host", false},
		{"rebinding the backup", "POST", "/v1/backup", json, "evil.example", 403, "forbidden_host", false},
		{"no Host", "GET", "/v1/messages", nil, " ", 403, "forbidden_host", false},
		{"localhost", "GET", "/v1/messages", nil, "localhost" + port, 200, "", false},
		{"a .localhost name", "GET", "/v1/messages", nil, "gsm.localhost" + port, 200, "", false},
		{"IPv6 loopback", "GET", "/v1/messages", nil, "[::1]" + port, 200, "", false},
		{"an IP address", "GET", "/v1/messages", nil, "192.0.2.1" + port, 200, "", false},
		{"a configured name, any case", "GET", "/v1/messages", nil, "GSM.example.com" + port, 200, "", false},
		{"the status page", "GET", "/", nil, "", 200, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := storedMessages(t, d)
			body := ""
			if tt.method == "POST" {
				body = guardMessage
			}
			if tt.path == "/v1/backup" {
				body = ""
			}
			a := request(t, tt.method, srv.URL+tt.path, body, tt.header, tt.host)
			if a.status != tt.wantStatus || a.body.Error.Code != tt.wantCode {
				t.Fatalf("%d %q, want %d %q: %s", a.status, a.body.Error.Code, tt.wantStatus, tt.wantCode, a.raw)
			}
			if got := storedMessages(t, d) - before; got != map[bool]int{true: 1}[tt.stored] {
				t.Fatalf("%d messages stored, want stored=%v", got, tt.stored)
			}
		})
	}
}

// Tokens with scopes: each route asks for one, a token without it gets
// 403 naming it, and the token's name is recorded on what it does.
func TestTokenScopes(t *testing.T) {
	d, srv := serveDaemon(t, func(c *config.Config) {
		c.Auth.Tokens = []config.Token{
			{Name: "payment-core", Hash: config.HashToken("core-token"), Scopes: []string{"send", "confirm", "read"}},
			{Name: "field-tester", Hash: config.HashToken("tester-token"), Scopes: []string{"read"}},
			{Name: "ops", Hash: config.HashToken("ops-token"), Scopes: []string{"admin"}},
			{Hash: config.HashToken("old-token")}, // from before scopes
		}
	})
	bearer := func(token string) map[string]string {
		return map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}
	}
	tests := []struct {
		name, token, method, path string
		wantStatus                int
		wantScope                 string // named in a 403
	}{
		{"a reader cannot send", "tester-token", "POST", "/v1/messages", 403, "send"},
		{"a reader reads", "tester-token", "GET", "/v1/messages", 200, ""},
		{"a reader cannot download the database", "tester-token", "POST", "/v1/backup", 403, "admin"},
		{"the payment core cannot download the database", "core-token", "POST", "/v1/backup", 403, "admin"},
		{"nor resume a SIM", "core-token", "POST", "/v1/sims/89701010000000000001/resume", 403, "admin"},
		{"nor handle dead letters", "core-token", "GET", "/v1/webhooks/dead-letters", 403, "admin"},
		{"nor retry one", "core-token", "POST", "/v1/webhooks/dead-letters/1/retry", 403, "admin"},
		{"nor run USSD", "core-token", "POST", "/v1/modems/x/ussd", 403, "ussd"},
		{"admin downloads the database", "ops-token", "POST", "/v1/backup", 200, ""},
		{"admin reads", "ops-token", "GET", "/v1/webhooks/dead-letters", 200, ""},
		{"a token from before scopes keeps full access", "old-token", "POST", "/v1/backup", 200, ""},
		{"an unknown token", "guess", "GET", "/v1/messages", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := ""
			if tt.path == "/v1/messages" && tt.method == "POST" {
				body = guardMessage
			}
			a := request(t, tt.method, srv.URL+tt.path, body, bearer(tt.token), "")
			if a.status != tt.wantStatus {
				t.Fatalf("%d, want %d: %.300s", a.status, tt.wantStatus, a.raw)
			}
			if tt.wantStatus == 403 {
				e := a.body.Error
				if e.Code != "insufficient_scope" || e.Scope != tt.wantScope || !strings.Contains(e.Message, "lacks the scope "+tt.wantScope) {
					t.Fatalf("403 does not name the scope %s: %s", tt.wantScope, a.raw)
				}
			}
		})
	}
	if n := storedMessages(t, d); n != 0 {
		t.Fatalf("%d messages stored by tokens without the send scope", n)
	}

	// The actor of each event is the name of the token that caused it.
	send := func(token string) string {
		a := request(t, "POST", srv.URL+"/v1/messages", guardMessage, bearer(token), "")
		var acc struct{ ID string }
		if a.status != 202 || json.Unmarshal([]byte(a.raw), &acc) != nil {
			t.Fatalf("send: %d %s", a.status, a.raw)
		}
		return acc.ID
	}
	sent := send("core-token")
	if a := request(t, "DELETE", srv.URL+"/v1/messages/"+sent, "", bearer("ops-token"), ""); a.status != 200 {
		t.Fatalf("cancel: %d %s", a.status, a.raw)
	}
	old := send("old-token")
	if a := request(t, "DELETE", srv.URL+"/v1/messages/"+old, "", bearer("old-token"), ""); a.status != 200 {
		t.Fatalf("cancel: %d %s", a.status, a.raw)
	}
	var page struct{ Events []api.Event }
	a := request(t, "GET", srv.URL+"/v1/events", "", bearer("tester-token"), "")
	if err := json.Unmarshal([]byte(a.raw), &page); err != nil {
		t.Fatalf("events: %v: %s", err, a.raw)
	}
	var got []string
	for _, e := range page.Events {
		got = append(got, e.Object.ID+" "+e.Type+" by "+e.Actor)
	}
	want := []string{
		sent + " message.cancelled by ops",
		old + " message.cancelled by auth.tokens[3]",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
	if !strings.Contains(a.raw, `"actor":"ops"`) {
		t.Fatalf("the API's event JSON lacks the actor: %s", a.raw)
	}
}

// Without tokens nobody is named: the events have no actor.
func TestNoActorWithoutTokens(t *testing.T) {
	d, srv := serveDaemon(t, nil)
	a := request(t, "POST", srv.URL+"/v1/messages", guardMessage, map[string]string{"Content-Type": "application/json"}, "")
	var acc struct{ ID string }
	if a.status != 202 || json.Unmarshal([]byte(a.raw), &acc) != nil {
		t.Fatalf("send: %d %s", a.status, a.raw)
	}
	if a := request(t, "DELETE", srv.URL+"/v1/messages/"+acc.ID, "", map[string]string{"Content-Type": "application/json"}, ""); a.status != 200 {
		t.Fatalf("cancel: %d %s", a.status, a.raw)
	}
	events, err := d.store.Events.Events(context.Background(), store.EventFilter{})
	if err != nil || len(events) != 1 || events[0].Actor != "" {
		t.Fatalf("events %+v, %v; want one without actor", events, err)
	}
}

// A lower-case scheme name passes the token check (RFC 9110, section 11.1).
func TestBearerAnyCase(t *testing.T) {
	_, srv := serveDaemon(t, func(c *config.Config) {
		c.Auth.Tokens = []config.Token{{Name: "core", Hash: config.HashToken("tok"), Scopes: []string{"read"}}}
	})
	if a := request(t, "GET", srv.URL+"/v1/messages", "", map[string]string{"Authorization": "bearer tok"}, ""); a.status != 200 {
		t.Fatalf("lower-case bearer: %d %s", a.status, a.raw)
	}
}

// Every route asks for exactly one known scope, and what writes is never
// open to a read-only token.
func TestEveryRouteHasAScope(t *testing.T) {
	admin := []string{"POST /v1/backup", "GET /v1/webhooks/dead-letters", "POST /v1/webhooks/dead-letters/{id}/retry", "POST /v1/sims/{iccid}/resume"}
	public := []string{"GET /", "GET /healthz", "GET /metrics", "GET /readyz", "GET /v1/status"}
	for _, rt := range bareDaemon(t).api.Routes() {
		key := rt.Method + " " + rt.Pattern
		switch {
		case rt.Open:
			if !slices.Contains(public, key) {
				t.Errorf("%s is served without a token", key)
			}
		case !slices.Contains(config.Scopes, rt.Scope):
			t.Errorf("%s asks for the unknown scope %q", key, rt.Scope)
		case rt.Method != "GET" && rt.Scope == config.ScopeRead:
			t.Errorf("%s writes with the read scope", key)
		}
		if slices.Contains(admin, key) && rt.Scope != config.ScopeAdmin {
			t.Errorf("%s needs %s, want admin", key, rt.Scope)
		}
	}
}
