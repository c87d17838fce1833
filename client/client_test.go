package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/client"
)

// daemonClient runs h as the daemon and returns a client of it; both stop
// with the test.
func daemonClient(t *testing.T, h http.Handler, opts ...client.Option) *client.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestErrorAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/messages":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":{"code":"invalid_field","message":"to: invalid phone number","field":"to"}}`))
		case "/v1/sims":
			http.Error(w, "upstream \x1b[31mdown\x1b[0m", http.StatusBadGateway)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"code":"unauthorized","message":"a valid bearer token is required"}}`))
		}
	}))
	defer srv.Close()
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	var e *client.Error
	_, err = c.Messages.List(ctx, client.Page{})
	if !errors.As(err, &e) || e.Status != 400 || e.Code != "invalid_field" || e.Field != "to" || err.Error() != "to: invalid phone number (invalid_field)" {
		t.Fatalf("daemon error: %#v", err)
	}
	_, err = c.SIMs.List(ctx)
	if !errors.As(err, &e) || e.Status != 502 || e.Code != "" || e.Message != "HTTP 502 Bad Gateway from "+srv.URL+": upstream \uFFFD[31mdown\uFFFD[0m" {
		t.Fatalf("foreign error: %#v", err)
	}
	_, err = c.Modems.List(ctx)
	if !errors.As(err, &e) || e.Status != 401 || !e.NoToken {
		t.Fatalf("401 without a token: %#v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	gone, _ := client.New(closed)
	if _, err := gone.Modems.List(ctx); !errors.Is(err, syscall.ECONNREFUSED) || !strings.HasPrefix(err.Error(), "cannot connect to http://"+closed) {
		t.Fatalf("no daemon: %v", err)
	}
}

func TestAddresses(t *testing.T) {
	for _, tc := range []struct {
		addr, base string
	}{{"127.0.0.1:8780", "http://127.0.0.1:8780"}, {"https://gsm.lan:8780/", "https://gsm.lan:8780"}, {"ftp://x", ""}, {"http://x/v1", ""}} {
		c, err := client.New(tc.addr)
		if tc.base == "" {
			if err == nil {
				t.Errorf("%s accepted", tc.addr)
			}
			continue
		}
		if err != nil || c.Base() != tc.base {
			t.Errorf("%s: %v %v", tc.addr, c, err)
		}
	}
}

// A daemon behind TLS with a private CA that wants client certificates: the
// client trusts the CA it is given and presents its certificate.
func TestPrivateCAAndClientCertificate(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCert(t, dir, "ca", nil, nil)
	srvCert, srvKey := newCert(t, dir, "server", ca, caKey)
	_, _ = newCert(t, dir, "client", ca, caKey)
	pair, err := tls.X509KeyPair(pemOf(t, srvCert), pemKey(t, srvKey))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"database_bytes":4096,"wal_bytes":0,"reclaimable_bytes":0,"free_bytes":1}`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()
	file := func(name string) string { return filepath.Join(dir, name) }

	c, err := client.New(srv.URL, client.WithTLSFiles(file("ca.pem"), file("client.pem"), file("client.key")), client.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if u, err := c.Ops.Storage(context.Background()); err != nil || u.DatabaseBytes != 4096 {
		t.Fatalf("with the CA and a certificate: %+v %v", u, err)
	}
	without, err := client.New(srv.URL, client.WithTLSFiles(file("ca.pem"), "", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer without.Close()
	if _, err := without.Ops.Storage(context.Background()); err == nil {
		t.Fatal("a daemon that wants a client certificate answered without one")
	}
	if _, err := client.New(srv.URL, client.WithTLSFiles("", file("client.pem"), "")); err == nil {
		t.Fatal("a certificate without its key was taken")
	}
}

// newCert makes a certificate signed by parent (self-signed when nil) and
// writes it and its key as <name>.pem and <name>.key.
func newCert(t *testing.T, dir, name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	} else {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), pemOf(t, cert), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), pemKey(t, key), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func pemOf(t *testing.T, c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func pemKey(t *testing.T, k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}
