package service

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/events"
)

// The block between the markers is the reference receiver's verification
// code; docs/events.md shows it verbatim and
// TestReadmeShowsTheTestedVerifier keeps the two the same.

// --- begin verifier ---

// verifyGsmbridge checks a webhook delivery: the signature must be the
// HMAC-SHA256 of "<timestamp>.<body>" under one of the secrets (several
// during a rotation), and the timestamp within 5 minutes of now.
func verifyGsmbridge(h http.Header, body []byte, secrets []string, now time.Time) error {
	ts := h.Get("X-Gsmbridge-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("missing or bad X-Gsmbridge-Timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp too far from now: replayed or clock skew")
	}
	got, err := hex.DecodeString(h.Get("X-Gsmbridge-Signature"))
	if err != nil {
		return errors.New("bad X-Gsmbridge-Signature")
	}
	for _, secret := range secrets {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts + "."))
		mac.Write(body)
		if hmac.Equal(got, mac.Sum(nil)) {
			return nil
		}
	}
	return errors.New("signature matches none of the secrets")
}

// --- end verifier ---

func TestReadmeShowsTheTestedVerifier(t *testing.T) {
	src, err := os.ReadFile("receiver_events_test.go")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "// --- begin verifier ---\n", "// --- end verifier ---"
	code := string(src)
	code = code[strings.Index(code, begin)+len(begin) : strings.Index(code, end)]
	readme, err := os.ReadFile("../../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), strings.TrimSpace(code)) {
		t.Fatal("docs/events.md does not show the verifier this test file runs; copy it from receiver_events_test.go")
	}
}

func TestVerifierAcceptsOnlyFreshSignaturesUnderAKnownSecret(t *testing.T) {
	now := time.Unix(1764000000, 0)
	body := []byte(`{"id":7,"type":"message.sent"}`)
	const newSecret, oldSecret = "new-secret-0123456789", "old-secret-0123456789"
	header := func(secret string, at time.Time, b []byte) http.Header {
		ts := strconv.FormatInt(at.Unix(), 10)
		h := http.Header{}
		h.Set("X-Gsmbridge-Timestamp", ts)
		h.Set("X-Gsmbridge-Signature", events.Signature(secret, ts, b))
		return h
	}
	cases := []struct {
		name    string
		h       http.Header
		body    []byte
		secrets []string
		ok      bool
	}{
		{"signed with the first secret", header(newSecret, now, body), body, []string{newSecret, oldSecret}, true},
		{"receiver still lists the old one first", header(newSecret, now, body), body, []string{oldSecret, newSecret}, true},
		{"receiver knows only the old one", header(newSecret, now, body), body, []string{oldSecret}, false},
		{"body changed", header(newSecret, now, body), []byte(`{"id":8,"type":"message.sent"}`), []string{newSecret}, false},
		{"four minutes old", header(newSecret, now.Add(-4*time.Minute), body), body, []string{newSecret}, true},
		{"six minutes old", header(newSecret, now.Add(-6*time.Minute), body), body, []string{newSecret}, false},
		{"from the future", header(newSecret, now.Add(6*time.Minute), body), body, []string{newSecret}, false},
		{"no headers", http.Header{}, body, []string{newSecret}, false},
	}
	for _, c := range cases {
		err := verifyGsmbridge(c.h, c.body, c.secrets, now)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
