package config

// Checks of the fleet section: how this host reaches the NATS cluster and
// the names all hosts of a fleet share.

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
)

// fleetToken is what may stand in a NATS subject token, a stream or a KV
// bucket name and a KV key: no dots, wildcards or spaces, which would
// change what a subject matches.
var fleetToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (v *validator) fleet() {
	f := v.c.Fleet
	for i, s := range f.Servers {
		p := fmt.Sprintf("fleet.servers[%d]", i)
		u, err := url.Parse(s)
		switch {
		case err != nil || u.Host == "" || u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "":
			v.add(p, "must be a NATS server URL such as nats://nats1.example.com:4222, got %q", s)
		case u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss":
			v.add(p, "must start nats://, tls://, ws:// or wss://, got %q", s)
		case u.User != nil:
			v.add(p, "must not hold a user or password: put credentials in creds_file, nkey_file or token_file")
		}
	}
	if f.Host != "" && !fleetToken.MatchString(f.Host) {
		v.add("fleet.host", "must be 1 to 64 letters, digits, - or _ (it becomes part of NATS subjects), got %q", f.Host)
	}
	var auth []string
	for key, file := range map[string]string{"creds_file": f.CredsFile, "nkey_file": f.NKeyFile, "token_file": f.TokenFile,
		"tls.ca_file": f.TLS.CAFile, "tls.cert_file": f.TLS.CertFile, "tls.key_file": f.TLS.KeyFile} {
		if file != "" && !filepath.IsAbs(file) {
			v.add("fleet."+key, "must be an absolute path, got %q", file)
		}
	}
	for _, k := range []struct{ key, file string }{{"creds_file", f.CredsFile}, {"nkey_file", f.NKeyFile}, {"token_file", f.TokenFile}} {
		if k.file != "" {
			auth = append(auth, k.key)
		}
	}
	if len(auth) > 1 {
		v.add("fleet."+auth[1], "set only one of creds_file, nkey_file and token_file, got %s and %s", auth[0], auth[1])
	}
	switch {
	case f.TLS.CertFile != "" && f.TLS.KeyFile == "":
		v.add("fleet.tls.key_file", "required with fleet.tls.cert_file")
	case f.TLS.CertFile == "" && f.TLS.KeyFile != "":
		v.add("fleet.tls.cert_file", "required with fleet.tls.key_file")
	}
	n := f.Names
	seen := map[string]string{}
	for _, k := range []struct{ key, name string }{
		{"work_stream", n.WorkStream}, {"event_stream", n.EventStream}, {"claims_bucket", n.ClaimsBucket},
		{"hosts_bucket", n.HostsBucket}, {"intake_bucket", n.IntakeBucket}, {"subject", n.Subject},
	} {
		p := "fleet.names." + k.key
		if !fleetToken.MatchString(k.name) {
			v.add(p, "must be 1 to 64 letters, digits, - or _, got %q", k.name)
			continue
		}
		if k.key == "subject" {
			continue
		}
		// KV buckets are streams named KV_<bucket>; two streams may not share a name.
		stream := k.name
		if k.key != "work_stream" && k.key != "event_stream" {
			stream = "KV_" + k.name
		}
		if other, dup := seen[stream]; dup {
			v.add(v.c.firstSet(p, "fleet.names."+other), "fleet.names.%s and fleet.names.%s name the same JetStream stream", other, k.key)
		}
		seen[stream] = k.key
	}
}

// fleetWarnings: what a valid fleet section still does unwisely.
func (v *validator) fleetWarnings() {
	f := v.c.Fleet
	if f.TLS.CAFile != "" || f.TLS.CertFile != "" {
		return
	}
	for i, s := range f.Servers {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "tls" || u.Scheme == "wss" {
			continue
		}
		if host, _, err := net.SplitHostPort(u.Host); err == nil && !loopback(host) || err != nil && !loopback(u.Host) {
			v.add(fmt.Sprintf("fleet.servers[%d]", i), "%q is reached without TLS: payment work and customer numbers cross the network in clear text; use tls:// or set fleet.tls.ca_file", s)
		}
	}
}
