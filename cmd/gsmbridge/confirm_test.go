package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// confirmDaemonFake answers the confirmation endpoints the way the daemon
// does, walking one confirmation through the states it is given, one per
// long poll.
type confirmDaemonFake struct {
	t      *testing.T
	states []string

	mu       sync.Mutex
	posted   map[string]any
	polls    []string
	position int
}

func (f *confirmDaemonFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer s3cret" {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"code":"unauthorized","message":"a valid bearer token is required"}}`)
		return
	}
	answer := func(status int) {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"id":"pay-9","phone":"+79161234567","txn":"12345","amount":"1500.00","currency":"RUB","state":%q,"version":%d,"expires_at":"2026-03-10T09:30:00Z"}`,
			f.states[f.position], f.position+1)
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/v1/confirmations":
		json.NewDecoder(r.Body).Decode(&f.posted)
		answer(http.StatusAccepted)
	case r.Method == "GET" && r.URL.Path == "/v1/confirmations/pay-9":
		f.polls = append(f.polls, r.URL.RawQuery)
		if f.position < len(f.states)-1 {
			f.position++
		}
		answer(http.StatusOK)
	case r.Method == "GET" && r.URL.Path == "/v1/confirmations":
		io.WriteString(w, `{"confirmations":[{"id":"pay-9","phone":"+79161234567","txn":"12345","amount":"1500.00","currency":"RUB","state":"failed","reason":"not deliverable (report 0x41)","version":3}],"next_cursor":""}`)
	default:
		f.t.Errorf("unexpected %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusNotFound)
	}
}

func TestConfirmVerb(t *testing.T) {
	cases := []struct {
		name      string
		args      []string
		states    []string
		wantErr   string
		wantOut   []string
		wantPolls int
	}{
		{"queue only", []string{"89161234567", "--txn", "12345", "--amount", "1500.00", "--id", "pay-9"},
			[]string{"queued"}, "", []string{"confirmation pay-9: queued, answer due by"}, 0},
		{"wait for the answer", []string{"89161234567", "--txn=12345", "--amount=1500.00", "--id=pay-9", "--wait"},
			[]string{"queued", "sent", "confirmed"}, "", []string{"pay-9: queued", "pay-9: sent", "pay-9: confirmed"}, 2},
		{"cancelled is a failure", []string{"89161234567", "--txn=12345", "--amount=1500.00", "--id=pay-9", "--wait"},
			[]string{"queued", "cancelled"}, "payment pay-9 not confirmed: cancelled", nil, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := &confirmDaemonFake{t: t, states: tc.states}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			t.Setenv("GSMBRIDGE_ADDR", srv.URL)
			t.Setenv("GSMBRIDGE_TOKEN", "s3cret")
			var out, errOut bytes.Buffer
			err := runConfirm(context.Background(), tc.args, &out, &errOut)
			if (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output %q lacks %q", out.String(), w)
				}
			}
			want := map[string]any{"id": "pay-9", "phone": "89161234567", "txn": "12345", "amount": "1500.00", "currency": "RUB"}
			if fmt.Sprint(fake.posted) != fmt.Sprint(want) {
				t.Errorf("posted %v, want %v", fake.posted, want)
			}
			if len(fake.polls) != tc.wantPolls {
				t.Fatalf("%d polls (%v), want %d", len(fake.polls), fake.polls, tc.wantPolls)
			}
			for i, q := range fake.polls {
				if want := fmt.Sprintf("version=%d&wait=50s", i+1); q != want {
					t.Errorf("poll %d asked %q, want %q", i, q, want)
				}
			}
		})
	}
}

func TestConfirmVerbUsageMistakes(t *testing.T) {
	for _, args := range [][]string{
		{"--txn", "1", "--amount", "1"},
		{"+79161234567", "--amount", "1"},
		{"+79161234567", "+79160000000", "--txn", "1", "--amount", "1"},
	} {
		err := runConfirm(context.Background(), args, io.Discard, io.Discard)
		if _, ok := err.(usageError); !ok {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	if err := runConfirmations(context.Background(), []string{"--state", "paid"}, io.Discard, io.Discard); err == nil {
		t.Error("--state paid was accepted")
	}
}

func TestConfirmationsVerbShowsReasons(t *testing.T) {
	srv := httptest.NewServer(&confirmDaemonFake{t: t, states: []string{"failed"}})
	defer srv.Close()
	var out bytes.Buffer
	err := runConfirmations(context.Background(), []string{"--addr", srv.URL, "--token", "s3cret", "--state", "failed"}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"pay-9", "failed", "+79161234567", "1500.00 RUB", "not deliverable (report 0x41)"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("table %q lacks %q", out.String(), w)
		}
	}
}
