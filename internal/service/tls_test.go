package service

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/health"
	"github.com/gsmbridge/gsmbridge/internal/httpapi/tlstest"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// serveTLS runs a daemon without modems over TLS on loopback until the
// test ends and returns it with its https:// URL.
func serveTLS(t *testing.T, tc config.TLS) (*Service, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = t.TempDir()
	cfg.Listen = ln.Addr().String()
	cfg.TLS = tc
	d, err := New(cfg, Options{Observe: checkAnswers(t)})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return d, "https://" + ln.Addr().String()
}

// handshake GETs /healthz with a fresh connection and returns the serial
// number of the certificate the server presented.
func handshake(t *testing.T, url string, roots *x509.CertPool, client *tls.Certificate) (int64, error) {
	t.Helper()
	cfg := &tls.Config{RootCAs: roots}
	if client != nil {
		cfg.Certificates = []tls.Certificate{*client}
	}
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	resp, err := c.Get(url + "/healthz")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /healthz over TLS: %s", resp.Status)
	}
	return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), nil
}

func TestTLSServesAndReloadsItsCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "test CA")
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c, k := ca.Issue(100, false)
	writeFile(t, certFile, c)
	writeFile(t, keyFile, k)
	d, url := serveTLS(t, config.TLS{CertFile: certFile, KeyFile: keyFile})

	if serial, err := handshake(t, url, roots, nil); err != nil || serial != 100 {
		t.Fatalf("first certificate: serial %d, %v", serial, err)
	}
	// Plain HTTP to the TLS port gets no API.
	if resp, err := http.Get("http" + url[len("https"):] + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP answered on the TLS listener")
		}
	}

	// A renewed certificate is picked up on reload.
	c, k = ca.Issue(200, false)
	writeFile(t, certFile, c)
	writeFile(t, keyFile, k)
	if err := d.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if serial, err := handshake(t, url, roots, nil); err != nil || serial != 200 {
		t.Fatalf("after reload: serial %d, %v", serial, err)
	}

	// A broken file is refused and the certificate in use stays.
	writeFile(t, keyFile, []byte("not a key"))
	if err := d.ReloadTLS(); err == nil {
		t.Fatal("reload of a broken key succeeded")
	}
	if serial, err := handshake(t, url, roots, nil); err != nil || serial != 200 {
		t.Fatalf("after a failed reload: serial %d, %v", serial, err)
	}
}

func TestTLSRequiresClientCertificates(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, strangerCA := tlstest.NewCA(t, "server CA"), tlstest.NewCA(t, "client CA"), tlstest.NewCA(t, "stranger CA")
	roots := x509.NewCertPool()
	roots.AddCert(serverCA.Cert)
	certFile, keyFile, caFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "clients.pem")
	c, k := serverCA.Issue(1, false)
	writeFile(t, certFile, c)
	writeFile(t, keyFile, k)
	writeFile(t, caFile, clientCA.PEM)
	d, url := serveTLS(t, config.TLS{CertFile: certFile, KeyFile: keyFile, ClientCAFile: caFile})

	pair := func(ca *tlstest.CA) *tls.Certificate {
		c, k := ca.Issue(7, true)
		cert, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		return &cert
	}
	if _, err := handshake(t, url, roots, pair(clientCA)); err != nil {
		t.Fatalf("client with a certificate from the configured CA: %v", err)
	}
	if _, err := handshake(t, url, roots, nil); err == nil {
		t.Fatal("client without a certificate was served")
	}
	if _, err := handshake(t, url, roots, pair(strangerCA)); err == nil {
		t.Fatal("client with a certificate from another CA was served")
	}
	// The watchdog's self-check has no client certificate; a refused
	// handshake still proves the listener answers.
	if err := health.ServerAnswers(d.cfg.Listen, true, 5*time.Second)(context.Background()); err != nil {
		t.Fatalf("self-check over TLS with client certificates: %v", err)
	}
}

func TestTLSFilesMustLoadAtStart(t *testing.T) {
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = t.TempDir()
	cfg.TLS = config.TLS{CertFile: filepath.Join(t.TempDir(), "missing.pem"), KeyFile: "/nonexistent/key.pem"}
	if _, err := New(cfg, Options{}); err == nil {
		t.Fatal("New accepted TLS files that do not exist")
	}
}
