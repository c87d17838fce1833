package config

// Checks and warnings of the HTTP listener: browser guards, TLS, tokens.

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
)

var hostNamePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)

func (v *validator) http() {
	for i, o := range v.c.HTTP.AllowedOrigins {
		p := fmt.Sprintf("http.allowed_origins[%d]", i)
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			v.add(p, "must be an origin: http:// or https://, a host and an optional port, nothing after; such as https://ops.example.com, got %q", o)
		}
	}
	for i, h := range v.c.HTTP.AllowedHosts {
		if !hostNamePattern.MatchString(h) {
			v.add(fmt.Sprintf("http.allowed_hosts[%d]", i), "must be a host name without port, such as gsmbridge.example.com, got %q", h)
		}
	}
	t := v.c.TLS
	for key, f := range map[string]string{"cert_file": t.CertFile, "key_file": t.KeyFile, "client_ca_file": t.ClientCAFile} {
		if f != "" && !filepath.IsAbs(f) {
			v.add("tls."+key, "must be an absolute path, got %q", f)
		}
	}
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		v.add("tls.key_file", "required with tls.cert_file")
	case t.CertFile == "" && t.KeyFile != "":
		v.add("tls.cert_file", "required with tls.key_file")
	case t.CertFile == "" && t.ClientCAFile != "":
		v.add("tls.client_ca_file", "needs tls.cert_file and tls.key_file: client certificates are checked only over TLS")
	}
}

// Warnings returns what a valid configuration still does unwisely, located
// like Validate's problems: the daemon logs them at start and check-config
// prints them.
func (c *Config) Warnings() []*Error {
	v := &validator{c: c}
	for i := range c.Auth.Tokens {
		if c.bareToken(i) {
			v.add(fmt.Sprintf("auth.tokens[%d]", i), "a bare hash has full access and no name (deprecated): write name, hash and scopes, with scopes [admin] for full access")
		}
	}
	if host, _, err := net.SplitHostPort(c.Listen); err == nil && len(c.Auth.Tokens) > 0 && !loopback(host) && !c.TLS.Enabled() {
		v.add("listen", "%q is reachable from other machines over plain HTTP: tokens and customer numbers cross the network in clear text; set tls.cert_file and tls.key_file, or put a TLS proxy in front and listen on loopback", strings.Trim(host, "[]"))
	}
	v.fleetWarnings()
	sortByLine(v.errs)
	return v.errs
}
