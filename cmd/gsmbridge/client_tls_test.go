package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeClientCert writes a self-signed client certificate and its key; the
// certificate doubles as the CA the daemon checks clients against.
func writeClientCert(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "payment core"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: true,
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
}

// A daemon on TLS with its own CA that wants client certificates: the CLI
// trusts the CA given by --ca (or GSMBRIDGE_CA) and presents --cert/--key.
func TestClientVerbsOverTLSWithAClientCertificate(t *testing.T) {
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }
	writeSelfSigned(t, file("server.pem"), file("server.key"), 1)
	writeClientCert(t, file("client.pem"), file("client.key"))
	cfg := fmt.Sprintf("tls:\n  cert_file: %s\n  key_file: %s\n  client_ca_file: %s\n", file("server.pem"), file("server.key"), file("client.pem"))
	if err := os.WriteFile(file("gsmbridge.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startServeSim(t, "--config", file("gsmbridge.yaml"))
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("serve listens on %s, want https://", base)
	}
	cli := func(env map[string]string, args ...string) (int, string, string) {
		for k, v := range env {
			t.Setenv(k, v)
		}
		var out, errOut bytes.Buffer
		code := run(t.Context(), append(args, "--addr", base), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	t.Setenv("GSMBRIDGE_TOKEN", "")
	if code, out, errOut := cli(nil, "sims", "--ca", file("server.pem"), "--cert", file("client.pem"), "--key", file("client.key")); code != 0 || !strings.HasPrefix(out, "ICCID") {
		t.Fatalf("with the CA and a client certificate: exit %d, %q %q", code, out, errOut)
	}
	env := map[string]string{"GSMBRIDGE_CA": file("server.pem"), "GSMBRIDGE_CERT": file("client.pem"), "GSMBRIDGE_KEY": file("client.key")}
	if code, out, errOut := cli(env, "modems"); code != 0 || !strings.HasPrefix(out, "ID") {
		t.Fatalf("from the environment: exit %d, %q %q", code, out, errOut)
	}
	if code, _, errOut := cli(map[string]string{"GSMBRIDGE_CERT": "", "GSMBRIDGE_KEY": ""}, "sims"); code != 1 || !strings.Contains(errOut, "gsmbridge sims: talking to "+base) {
		t.Fatalf("without a client certificate: exit %d, %q", code, errOut)
	}
	if code, _, errOut := cli(map[string]string{"GSMBRIDGE_CA": ""}, "sims"); code != 1 || !strings.Contains(errOut, "certificate") {
		t.Fatalf("without the CA: exit %d, %q", code, errOut)
	}
	if code, _, errOut := cli(nil, "sims", "--cert", file("client.pem")); code != 2 || !strings.Contains(errOut, "--cert and --key go together") {
		t.Fatalf("a certificate without its key: exit %d, %q", code, errOut)
	}
}
