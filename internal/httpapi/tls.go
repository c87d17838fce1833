package httpapi

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
)

// TLSFiles serves the API's certificate and the CAs of client certificates
// from the configured files, re-read by reload without a restart: a
// renewed certificate replaces the old one for new connections only.
type TLSFiles struct {
	cfg config.TLS
	cur atomic.Pointer[tlsLoaded]
}

type tlsLoaded struct {
	cert      tls.Certificate
	clientCAs *x509.CertPool // nil: no client certificates asked for
}

// LoadTLS reads the configured files; they must load at start.
func LoadTLS(cfg config.TLS) (*TLSFiles, error) {
	f := &TLSFiles{cfg: cfg}
	if err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Reload reads the files again; on any error the certificate in use stays.
func (f *TLSFiles) Reload() error {
	cert, err := tls.LoadX509KeyPair(f.cfg.CertFile, f.cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("tls: load tls.cert_file %s and tls.key_file %s: %w", f.cfg.CertFile, f.cfg.KeyFile, err)
	}
	l := &tlsLoaded{cert: cert}
	if f.cfg.ClientCAFile != "" {
		pem, err := os.ReadFile(f.cfg.ClientCAFile)
		if err != nil {
			return fmt.Errorf("tls: read tls.client_ca_file: %w", err)
		}
		l.clientCAs = x509.NewCertPool()
		if !l.clientCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("tls: tls.client_ca_file %s holds no PEM certificate", f.cfg.ClientCAFile)
		}
	}
	f.cur.Store(l)
	return nil
}

// NotAfter is when the certificate in use expires.
func (f *TLSFiles) NotAfter() time.Time {
	if leaf := f.cur.Load().cert.Leaf; leaf != nil {
		return leaf.NotAfter
	}
	return time.Time{}
}

// Config answers each handshake with what was loaded last.
func (f *TLSFiles) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			l := f.cur.Load()
			c := &tls.Config{
				MinVersion:   tls.VersionTLS12,
				Certificates: []tls.Certificate{l.cert},
				NextProtos:   []string{"h2", "http/1.1"},
			}
			if l.clientCAs != nil {
				c.ClientAuth = tls.RequireAndVerifyClientCert
				c.ClientCAs = l.clientCAs
			}
			return c, nil
		},
	}
}

// RefusedForLackOfCertificate reports whether a self-check failed only
// because the server asks for a client certificate: it answered, so it is
// alive.
func RefusedForLackOfCertificate(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}
