package httpapi

// Who may call the API. Every request first passes the browser guards,
// which stop web pages from using a browser on a machine that reaches the
// daemon; then each route checks the bearer token and its scope.

import (
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// guards holds what the browser guards and the token check need.
type guards struct {
	auth           *config.Auth
	allowedHosts   []string
	allowedOrigins []string
	maxBodyBytes   int64
	log            *slog.Logger
}

// browser refuses what only a web page could make a browser send. A
// page on another site may post a "simple" request (text/plain, no
// preflight) to any address the browser reaches, and by DNS rebinding may
// even read the answers under a name of its own. So: a request that writes
// must say it is JSON, which a page can only send cross-origin after a
// preflight this daemon never grants; an Origin other than the daemon's own
// and the configured ones is refused; and the Host must be a name the
// daemon answers to.
func (g *guards) browser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.hostAllowed(r.Host) {
			WriteError(w, &Error{Status: http.StatusForbidden, Code: "forbidden_host",
				Message: fmt.Sprintf("Host %q is not a name this daemon answers to; add it to http.allowed_hosts", r.Host)})
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !g.originAllowed(o, r.Host) {
			WriteError(w, &Error{Status: http.StatusForbidden, Code: "forbidden_origin",
				Message: fmt.Sprintf("requests from web pages at %q are refused; add the origin to http.allowed_origins", o)})
			return
		}
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				WriteError(w, &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
					Message: fmt.Sprintf("%s needs Content-Type: application/json, got %q", r.Method, r.Header.Get("Content-Type"))})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed: localhost names and IP addresses need no listing, as DNS
// rebinding needs a name the attacker controls; other names must be
// configured.
func (g *guards) hostAllowed(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = strings.Trim(hostport, "[]") // no port
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	switch {
	case host == "":
		return false
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		return true
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return slices.ContainsFunc(g.allowedHosts, func(h string) bool { return strings.EqualFold(h, host) })
}

// originAllowed: a page the daemon served itself (the status page) has
// the origin of the address it was reached by; others must be configured.
func (g *guards) originAllowed(origin, host string) bool {
	if slices.ContainsFunc(g.allowedOrigins, func(o string) bool {
		return strings.EqualFold(strings.TrimSuffix(o, "/"), origin)
	}) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, host)
}

// authenticate requires, once tokens are configured, a bearer token that
// holds scope; the token's name then travels in the request's context as
// the actor of the events the request causes.
func (g *guards) authenticate(scope string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.auth != nil && len(g.auth.Tokens) > 0 {
			i, ok := g.auth.Check(BearerToken(r.Header.Get("Authorization")))
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gsmbridge"`)
				WriteError(w, &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid bearer token is required"})
				return
			}
			actor := g.auth.Actor(i)
			if !g.auth.Tokens[i].Allows(scope) {
				g.log.Warn("token lacks the scope a request needs", "token", actor, "scope", scope, "method", r.Method, "route", r.Pattern)
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="gsmbridge", error="insufficient_scope", scope=%q`, scope))
				WriteError(w, &Error{Status: http.StatusForbidden, Code: "insufficient_scope", Scope: scope,
					Message: fmt.Sprintf("token %q lacks the scope %s, which %s needs", actor, scope, r.Pattern)})
				return
			}
			r = r.WithContext(store.WithActor(r.Context(), actor))
		}
		if g.maxBodyBytes > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, g.maxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// BearerToken takes the token from an Authorization header; the scheme's
// name is case-insensitive (RFC 9110, section 11.1).
func BearerToken(header string) string {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimLeft(token, " ")
}
