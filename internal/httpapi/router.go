// Package httpapi is the HTTP frame every feature's endpoints sit in: the
// route table and its router (404 and 405 with Allow in JSON), the browser
// guards and the bearer token with its scopes, JSON errors and request
// decoding, paging and long-poll limits, the merged OpenAPI document, and
// the listener that caps connections and serves TLS.
package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/gsmbridge/gsmbridge/internal/config"
)

// Route is one API endpoint. The routes of all features are the single
// list of what the API offers; a test holds them to the OpenAPI document.
type Route struct {
	Method, Pattern string
	// Scope is what a token must hold to call it (see config.Scopes).
	Scope string
	// Open routes need no token and take Scope from nobody.
	Open    bool
	Handler http.HandlerFunc
}

// Options are what New needs beyond the routes.
type Options struct {
	// Auth holds the tokens; with none configured every route is open.
	Auth *config.Auth
	// AllowedHosts and AllowedOrigins extend the browser guards
	// (http.allowed_hosts, http.allowed_origins).
	AllowedHosts, AllowedOrigins []string
	// MaxBodyBytes caps the body of a request behind the token check; 0
	// leaves it uncapped.
	MaxBodyBytes int64
	Logger       *slog.Logger
	// Wrap, when set, wraps the routes inside the browser guards.
	Wrap func(http.Handler) http.Handler
}

// API serves a route table. Safe for concurrent use.
type API struct {
	handler http.Handler
	routes  []Route
	doc     []byte
}

// New merges the fragments into the OpenAPI document, which it serves at
// GET /v1/openapi.json, and serves the routes, each behind its token
// check, all behind the browser guards.
func New(routes []Route, fragments []Fragment, o Options) (*API, error) {
	doc, err := Merge(fragments...)
	if err != nil {
		return nil, err
	}
	a := &API{doc: doc}
	a.routes = append(slices.Clone(routes), Route{Method: "GET", Pattern: "/v1/openapi.json", Scope: config.ScopeRead, Handler: a.serveDocument})
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	g := &guards{auth: o.Auth, allowedHosts: o.AllowedHosts, allowedOrigins: o.AllowedOrigins, maxBodyBytes: o.MaxBodyBytes, log: o.Logger}
	mux, err := g.mux(a.routes)
	if err != nil {
		return nil, err
	}
	var h http.Handler = mux
	if o.Wrap != nil {
		h = o.Wrap(h)
	}
	a.handler = g.browser(h)
	return a, nil
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Routes are the routes served, GET /v1/openapi.json included.
func (a *API) Routes() []Route { return slices.Clone(a.routes) }

// Document is the merged OpenAPI document.
func (a *API) Document() []byte { return a.doc }

func (a *API) serveDocument(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(a.doc)
}

// mux serves the routes, each behind its token check.
func (g *guards) mux(routes []Route) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	methods := map[string]bool{}
	for _, rt := range routes {
		var h http.Handler = rt.Handler
		switch {
		case rt.Open && rt.Scope != "":
			return nil, fmt.Errorf("route %s %s is open but asks for the scope %q", rt.Method, rt.Pattern, rt.Scope)
		case !rt.Open:
			h = g.authenticate(rt.Scope, h)
		}
		pattern := rt.Pattern
		if pattern == "/" {
			// A pattern ending in / matches its whole subtree; the status
			// page is / alone, so other paths reach the catch-all below.
			pattern = "/{$}"
		}
		mux.Handle(rt.Method+" "+pattern, h)
		methods[rt.Method] = true
	}
	// The catch-all keeps every answer JSON; it also hides ServeMux's own
	// 405, so it works out which methods the path does have.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		allow := allowedMethods(mux, methods, r)
		if len(allow) == 0 {
			WriteError(w, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		WriteError(w, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: r.Method + " " + r.URL.Path + " is not served; it takes " + strings.Join(allow, ", ")})
	})
	return mux, nil
}

// allowedMethods lists the methods that some route serves at r's path,
// asking the mux itself so that wildcards match as they do when serving.
func allowedMethods(mux *http.ServeMux, methods map[string]bool, r *http.Request) []string {
	var allow []string
	for m := range methods {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead) // ServeMux answers HEAD with the GET handler
			}
		}
	}
	slices.Sort(allow)
	return allow
}
