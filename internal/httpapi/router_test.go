package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// testAPI serves a small route table; each handler answers 200 with the
// actor the request carries and the body it could read.
func testAPI(t *testing.T, o Options) *API {
	t.Helper()
	echo := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			WriteError(w, &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: err.Error()})
			return
		}
		WriteJSON(w, http.StatusOK, map[string]any{"actor": store.ActorOf(r.Context()), "read": len(body)})
	}
	routes := []Route{
		{Method: "GET", Pattern: "/", Open: true, Handler: echo},
		{Method: "GET", Pattern: "/v1/things", Scope: config.ScopeRead, Handler: echo},
		{Method: "POST", Pattern: "/v1/things", Scope: config.ScopeSend, Handler: echo},
		{Method: "DELETE", Pattern: "/v1/things/{id}", Scope: config.ScopeAdmin, Handler: echo},
	}
	frag := Fragment{Name: "things.json", JSON: []byte(`{"paths":{"/v1/things":{}}}`)}
	a, err := New(routes, []Fragment{frag}, o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type reply struct {
	status int
	header http.Header
	err    Error
	body   map[string]any
}

func call(a http.Handler, method, target, body string, header ...string) reply {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	var r reply
	r.status, r.header = rec.Code, rec.Header()
	var e struct{ Error Error }
	json.Unmarshal(rec.Body.Bytes(), &e)
	json.Unmarshal(rec.Body.Bytes(), &r.body)
	r.err = e.Error
	return r
}

func TestWrongMethodIs405WithAllowAndUnknownPathIs404(t *testing.T) {
	a := testAPI(t, Options{})
	cases := []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"PUT", "/v1/things", 405, "method_not_allowed", "GET, HEAD, POST"},
		{"GET", "/v1/things/t-1", 405, "method_not_allowed", "DELETE"},
		{"POST", "/", 405, "method_not_allowed", "GET, HEAD"},
		{"GET", "/v1/openapi.json", 200, "", ""},
		{"GET", "/v1/nothing", 404, "not_found", ""},
		{"GET", "/favicon.ico", 404, "not_found", ""},
	}
	for _, c := range cases {
		r := call(a, c.method, "http://127.0.0.1:8780"+c.path, "", "Content-Type", "application/json")
		if r.status != c.status || r.err.Code != c.code || r.header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d %q Allow %q, want %d %q Allow %q", c.method, c.path, r.status, r.err.Code, r.header.Get("Allow"), c.status, c.code, c.allow)
		}
	}
}

func TestBrowserGuardsRefuseWhatOnlyAPageWouldSend(t *testing.T) {
	a := testAPI(t, Options{AllowedHosts: []string{"gsm.example.com"}, AllowedOrigins: []string{"https://ops.example.com/"}})
	cases := []struct {
		name, method string
		header       []string
		status       int
		code         string
	}{
		{"JSON", "POST", []string{"Content-Type", "application/json; charset=utf-8"}, 200, ""},
		{"text/plain", "POST", []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type"},
		{"no content type on a DELETE", "DELETE", nil, 415, "unsupported_media_type"},
		{"a GET needs none", "GET", nil, 200, ""},
		{"another origin", "GET", []string{"Origin", "http://evil.example"}, 403, "forbidden_origin"},
		{"a sandboxed page", "GET", []string{"Origin", "null"}, 403, "forbidden_origin"},
		{"its own origin", "GET", []string{"Origin", "http://127.0.0.1:8780"}, 200, ""},
		{"a configured origin", "GET", []string{"Origin", "https://ops.example.com"}, 200, ""},
		{"an unknown name", "GET", []string{"Host", "evil.example:8780"}, 403, "forbidden_host"},
		{"no Host", "GET", []string{"Host", " "}, 403, "forbidden_host"},
		{"a .localhost name", "GET", []string{"Host", "gsm.localhost:8780"}, 200, ""},
		{"IPv6 loopback", "GET", []string{"Host", "[::1]:8780"}, 200, ""},
		{"a configured name, any case, trailing dot", "GET", []string{"Host", "GSM.example.com.:8780"}, 200, ""},
	}
	for _, c := range cases {
		path := "/v1/things"
		if c.method == "DELETE" {
			path = "/v1/things/t-1"
		}
		r := call(a, c.method, "http://127.0.0.1:8780"+path, "{}", c.header...)
		if r.status != c.status || r.err.Code != c.code {
			t.Errorf("%s: %d %q, want %d %q", c.name, r.status, r.err.Code, c.status, c.code)
		}
	}
}

func TestTokensScopesAndActor(t *testing.T) {
	auth := &config.Auth{Tokens: []config.Token{
		{Name: "reader", Hash: config.HashToken("read-token"), Scopes: []string{"read"}},
		{Hash: config.HashToken("old-token")}, // from before scopes: every scope
	}}
	a := testAPI(t, Options{Auth: auth, MaxBodyBytes: 8})
	json := []string{"Content-Type", "application/json"}
	cases := []struct {
		name, method, path, token string
		status                    int
		code, scope, actor        string
	}{
		{"no token", "GET", "/v1/things", "", 401, "unauthorized", "", ""},
		{"an unknown token", "GET", "/v1/things", "guess", 401, "unauthorized", "", ""},
		{"a reader reads", "GET", "/v1/things", "read-token", 200, "", "", "reader"},
		{"a reader cannot send", "POST", "/v1/things", "read-token", 403, "insufficient_scope", "send", ""},
		{"an unnamed token is named by its place", "DELETE", "/v1/things/t-1", "old-token", 200, "", "", "auth.tokens[1]"},
		{"an open route needs none", "GET", "/", "", 200, "", "", ""},
	}
	for _, c := range cases {
		r := call(a, c.method, "http://127.0.0.1:8780"+c.path, "", append(json, "Authorization", "bearer "+c.token)...)
		if r.status != c.status || r.err.Code != c.code || r.err.Scope != c.scope {
			t.Errorf("%s: %d %q scope %q, want %d %q scope %q", c.name, r.status, r.err.Code, r.err.Scope, c.status, c.code, c.scope)
		}
		if c.status == 200 && r.body["actor"] != c.actor {
			t.Errorf("%s: actor %v, want %q", c.name, r.body["actor"], c.actor)
		}
		if c.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("%s: 401 without a Bearer challenge", c.name)
		}
	}
	// Behind the token check a body is capped.
	if r := call(a, "POST", "http://127.0.0.1:8780/v1/things", "0123456789", append(json, "Authorization", "Bearer old-token")...); r.status != 413 {
		t.Errorf("a body past max_body_bytes: %d, want 413", r.status)
	}
}

func TestOpenRouteWithAScopeIsRefused(t *testing.T) {
	h := func(http.ResponseWriter, *http.Request) {}
	if _, err := New([]Route{{Method: "GET", Pattern: "/x", Open: true, Scope: config.ScopeRead, Handler: h}}, nil, Options{}); err == nil {
		t.Fatal("New accepted an open route that asks for a scope")
	}
}

func TestMergeRefusesWhatTwoFragmentsDefine(t *testing.T) {
	a := Fragment{Name: "a.json", JSON: []byte(`{"paths":{"/v1/a":{}},"components":{"schemas":{"A":{}}}}`)}
	cases := []struct {
		name string
		b    string
		want string
	}{
		{"a path", `{"paths":{"/v1/a":{}}}`, "b.json: path /v1/a is already described"},
		{"a schema", `{"components":{"schemas":{"A":{}}}}`, "b.json: schemas A is already defined"},
		{"a shared response of the base", `{"components":{"responses":{"Error":{}}}}`, "b.json: responses Error is already defined"},
		{"not JSON", `{`, "b.json: unexpected end of JSON input"},
	}
	for _, c := range cases {
		_, err := Merge(a, Fragment{Name: "b.json", JSON: []byte(c.b)})
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	doc, err := Merge(a, Fragment{Name: "b.json", JSON: []byte(`{"paths":{"/v1/b":{}},"components":{"schemas":{"B":{}}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	var merged struct {
		Paths      map[string]any
		Components struct{ Schemas, Responses map[string]any }
	}
	if err := json.Unmarshal(doc, &merged); err != nil {
		t.Fatal(err)
	}
	for _, want := range []bool{merged.Paths["/v1/a"] != nil, merged.Paths["/v1/b"] != nil, merged.Paths["/v1/openapi.json"] != nil,
		merged.Components.Schemas["A"] != nil, merged.Components.Schemas["B"] != nil, merged.Components.Schemas["Error"] != nil,
		merged.Components.Responses["Unauthorized"] != nil} {
		if !want {
			t.Fatalf("merged document lacks a part: %s", doc)
		}
	}
}
