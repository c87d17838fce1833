package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeSelfSigned writes a certificate for 127.0.0.1 with the given serial
// number, and its key, and returns the certificate to trust.
func writeSelfSigned(t *testing.T, certFile, keyFile string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "gsmbridge test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// serve --config with TLS speaks HTTPS, and a real SIGHUP makes it pick up
// a renewed certificate without a restart.
func TestServeReloadsItsCertificateOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := writeSelfSigned(t, certFile, keyFile, 1)
	cfgFile := filepath.Join(dir, "gsmbridge.yaml")
	cfg := fmt.Sprintf("data_dir: %s\ntls:\n  cert_file: %s\n  key_file: %s\n", filepath.Join(dir, "data"), certFile, keyFile)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgFile, "--listen", "127.0.0.1:0"}, pw, &stderr)
		pw.Close()
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "gsmbridge listening on "); ok {
				urls <- u
			}
		}
	}()
	var base string
	select {
	case base = <-urls:
	case code := <-done:
		t.Fatalf("serve exited %d before listening: %s", code, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	}()
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("serve says it listens on %s, want https://", base)
	}

	roots := x509.NewCertPool()
	roots.AddCert(first)
	serial := func() int64 {
		tr := &http.Transport{
			DisableKeepAlives: true,
			// Trust whatever is served, to see which certificate it is.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: tr}).Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	}
	verified := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true}
	resp, err := (&http.Client{Transport: verified}).Get(base + "/healthz")
	if err != nil {
		t.Fatalf("the configured certificate does not verify: %v", err)
	}
	resp.Body.Close()
	verified.CloseIdleConnections()

	writeSelfSigned(t, certFile, keyFile, 2)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for serial() != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate was not served after SIGHUP")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
