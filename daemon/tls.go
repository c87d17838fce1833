package daemon

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

// tlsFiles serves the API's certificate and the CAs of client certificates
// from the configured files, re-read by reload without a restart: a
// renewed certificate replaces the old one for new connections only.
type tlsFiles struct {
	cfg config.TLS
	cur atomic.Pointer[tlsLoaded]
}

type tlsLoaded struct {
	cert      tls.Certificate
	clientCAs *x509.CertPool // nil: no client certificates asked for
}

func newTLSFiles(cfg config.TLS) (*tlsFiles, error) {
	f := &tlsFiles{cfg: cfg}
	if err := f.reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// reload reads the files again; on any error the certificate in use stays.
func (f *tlsFiles) reload() error {
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

// notAfter is when the certificate in use expires.
func (f *tlsFiles) notAfter() time.Time {
	if leaf := f.cur.Load().cert.Leaf; leaf != nil {
		return leaf.NotAfter
	}
	return time.Time{}
}

// config answers each handshake with what was loaded last.
func (f *tlsFiles) config() *tls.Config {
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

// ReloadTLS re-reads the TLS certificate, key and client CAs (serve does
// it on SIGHUP). Without TLS configured it does nothing.
func (d *Daemon) ReloadTLS() error {
	if d.tls == nil {
		return nil
	}
	if err := d.tls.reload(); err != nil {
		return err
	}
	d.log.Info("TLS files reloaded", "cert_file", d.cfg.TLS.CertFile, "not_after", d.tls.notAfter())
	return nil
}

// refusedForLackOfCertificate reports whether a self-check failed only
// because the server asks for a client certificate: it answered, so it is
// alive.
func refusedForLackOfCertificate(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}
