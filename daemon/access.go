package daemon

// Who may call the API. Every request first passes the browser guards,
// which stop web pages from using a browser on a machine that reaches the
// daemon; then each route checks the bearer token and its scope.

import (
	"fmt"
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

// A route's scope is what its token must hold (see config.Scopes);
// scopePublic routes need no token.
const (
	scopePublic  = "public"
	scopeSend    = config.ScopeSend
	scopeConfirm = config.ScopeConfirm
	scopeUSSD    = config.ScopeUSSD
	scopeRead    = config.ScopeRead
	scopeAdmin   = config.ScopeAdmin
)

// browserGuard refuses what only a web page could make a browser send. A
// page on another site may post a "simple" request (text/plain, no
// preflight) to any address the browser reaches, and by DNS rebinding may
// even read the answers under a name of its own. So: a request that writes
// must say it is JSON, which a page can only send cross-origin after a
// preflight this daemon never grants; an Origin other than the daemon's own
// and the configured ones is refused; and the Host must be a name the
// daemon answers to.
func (d *Daemon) browserGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.hostAllowed(r.Host) {
			writeError(w, &apiError{Status: http.StatusForbidden, Code: "forbidden_host",
				Message: fmt.Sprintf("Host %q is not a name this daemon answers to; add it to http.allowed_hosts", r.Host)})
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !d.originAllowed(o, r.Host) {
			writeError(w, &apiError{Status: http.StatusForbidden, Code: "forbidden_origin",
				Message: fmt.Sprintf("requests from web pages at %q are refused; add the origin to http.allowed_origins", o)})
			return
		}
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeError(w, &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
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
func (d *Daemon) hostAllowed(hostport string) bool {
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
	return slices.ContainsFunc(d.cfg.HTTP.AllowedHosts, func(h string) bool { return strings.EqualFold(h, host) })
}

// originAllowed: a page the daemon served itself (the status page) has
// the origin of the address it was reached by; others must be configured.
func (d *Daemon) originAllowed(origin, host string) bool {
	if slices.ContainsFunc(d.cfg.HTTP.AllowedOrigins, func(o string) bool {
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
func (d *Daemon) authenticate(scope string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(d.cfg.Auth.Tokens) > 0 {
			i, ok := d.cfg.Auth.Check(bearerToken(r.Header.Get("Authorization")))
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gsmbridge"`)
				writeError(w, &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid bearer token is required"})
				return
			}
			actor := d.cfg.Auth.Actor(i)
			if !d.cfg.Auth.Tokens[i].Allows(scope) {
				d.log.Warn("token lacks the scope a request needs", "token", actor, "scope", scope, "method", r.Method, "route", r.Pattern)
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="gsmbridge", error="insufficient_scope", scope=%q`, scope))
				writeError(w, &apiError{Status: http.StatusForbidden, Code: "insufficient_scope", Scope: scope,
					Message: fmt.Sprintf("token %q lacks the scope %s, which %s needs", actor, scope, r.Pattern)})
				return
			}
			r = r.WithContext(store.WithActor(r.Context(), actor))
		}
		r.Body = http.MaxBytesReader(w, r.Body, int64(d.cfg.LimitsHTTP.MaxBodyBytes))
		next.ServeHTTP(w, r)
	})
}

// bearerToken takes the token from an Authorization header; the scheme's
// name is case-insensitive (RFC 9110, section 11.1).
func bearerToken(header string) string {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimLeft(token, " ")
}
