package httpapi

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi/tlstest"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// serveTLS serves a 204 over f through NewServer until the test ends and
// returns the https:// address.
func serveTLS(t *testing.T, f *TLSFiles) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := NewLimitListener(ln, 8)
	srv := NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }), lim)
	srv.TLSConfig = f.Config()
	ended := connsEnded(srv)
	done := make(chan struct{})
	go func() { srv.ServeTLS(lim, "", ""); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done; ended() })
	return "https://" + ln.Addr().String()
}

// presented makes one fresh connection and returns the serial number of
// the server's certificate.
func presented(url string, roots *x509.CertPool, client *tls.Certificate) (int64, error) {
	cfg := &tls.Config{RootCAs: roots}
	if client != nil {
		cfg.Certificates = []tls.Certificate{*client}
	}
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: tr}).Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), nil
}

// A renewed certificate serves new connections after Reload; a broken one
// is refused and the one in use stays.
func TestTLSFilesReload(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "test CA")
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c, k := ca.Issue(100, false)
	writeFile(t, certFile, c)
	writeFile(t, keyFile, k)
	f, err := LoadTLS(config.TLS{CertFile: certFile, KeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	if f.NotAfter().Before(time.Now()) {
		t.Fatalf("NotAfter %s is past", f.NotAfter())
	}
	url := serveTLS(t, f)
	if serial, err := presented(url, roots, nil); err != nil || serial != 100 {
		t.Fatalf("first certificate: serial %d, %v", serial, err)
	}
	c, k = ca.Issue(200, false)
	writeFile(t, certFile, c)
	writeFile(t, keyFile, k)
	if err := f.Reload(); err != nil {
		t.Fatal(err)
	}
	if serial, err := presented(url, roots, nil); err != nil || serial != 200 {
		t.Fatalf("after reload: serial %d, %v", serial, err)
	}
	writeFile(t, keyFile, []byte("not a key"))
	if err := f.Reload(); err == nil {
		t.Fatal("reload of a broken key succeeded")
	}
	if serial, err := presented(url, roots, nil); err != nil || serial != 200 {
		t.Fatalf("after a failed reload: serial %d, %v", serial, err)
	}
	if _, err := LoadTLS(config.TLS{CertFile: filepath.Join(dir, "missing.pem"), KeyFile: keyFile}); err == nil {
		t.Fatal("LoadTLS accepted a certificate file that does not exist")
	}
}

// With client CAs only their certificates get through; a client without
// one is refused in a way RefusedForLackOfCertificate recognises.
func TestTLSFilesRequireClientCertificates(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, strangerCA := tlstest.NewCA(t, "server CA"), tlstest.NewCA(t, "client CA"), tlstest.NewCA(t, "stranger CA")
	roots := x509.NewCertPool()
	roots.AddCert(serverCA.Cert)
	certFile, keyFile, caFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "clients.pem")
	c, k := serverCA.Issue(1, false)
	writeFile(t, certFile, c)
	writeFile(t, keyFile, k)
	writeFile(t, caFile, clientCA.PEM)
	f, err := LoadTLS(config.TLS{CertFile: certFile, KeyFile: keyFile, ClientCAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	url := serveTLS(t, f)
	pair := func(ca *tlstest.CA) *tls.Certificate {
		c, k := ca.Issue(7, true)
		cert, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		return &cert
	}
	if _, err := presented(url, roots, pair(clientCA)); err != nil {
		t.Fatalf("client with a certificate from the configured CA: %v", err)
	}
	if _, err := presented(url, roots, pair(strangerCA)); err == nil {
		t.Fatal("client with a certificate from another CA was served")
	}
	_, err = presented(url, roots, nil)
	if err == nil {
		t.Fatal("client without a certificate was served")
	}
	if !RefusedForLackOfCertificate(err) {
		t.Fatalf("refusal %v is not recognised as one for lack of a certificate", err)
	}
	writeFile(t, caFile, []byte("no PEM here"))
	if err := f.Reload(); err == nil {
		t.Fatal("reload accepted a client CA file without a certificate")
	}
}
