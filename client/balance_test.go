package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/client"
)

// A balance read is a GET; a check, which dials the network, is a POST
// with a JSON body, as every write: the daemon refuses ?refresh= on a GET.
func TestBalanceChecksArePosts(t *testing.T) {
	var got []string
	c := daemonClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Content-Type")+" "+string(body))
		w.Write([]byte(`{"iccid":"8970011000000000003"}`))
	}))
	ctx := context.Background()
	tests := []struct {
		call func() error
		want string
	}{
		{func() error { _, err := c.SIMs.Balance(ctx, "8970011000000000003", false); return err }, "GET /v1/sims/8970011000000000003/balance  "},
		{func() error { _, err := c.SIMs.Balance(ctx, "8970011000000000003", true); return err },
			"POST /v1/sims/8970011000000000003/balance application/json {}"},
		{func() error { _, err := c.Modems.Balance(ctx, "m1", false); return err }, "GET /v1/modems/m1/balance  "},
		{func() error { _, err := c.Modems.Balance(ctx, "m1", true); return err }, "POST /v1/modems/m1/balance application/json {}"},
	}
	for _, tt := range tests {
		got = nil
		if err := tt.call(); err != nil {
			t.Fatalf("%s: %v", tt.want, err)
		}
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("sent %q, want %q", got, tt.want)
		}
	}
}

// A balance check waits for the operator's network, up to
// api.BalanceCheckWithin: a client whose usual timeout is shorter still
// gets its answer, while a read as slow is given up.
func TestABalanceCheckOutwaitsTheUsualTimeout(t *testing.T) {
	c := daemonClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(300 * time.Millisecond): // the network's answer
		case <-r.Context().Done():
			return
		}
		w.Write([]byte(`{"iccid":"8970011000000000003"}`))
	}), client.WithTimeout(100*time.Millisecond))
	if _, err := c.SIMs.Balance(t.Context(), "8970011000000000003", true); err != nil {
		t.Errorf("a check slower than the usual timeout: %v", err)
	}
	if _, err := c.SIMs.Balance(t.Context(), "8970011000000000003", false); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a read as slow: %v, want it given up", err)
	}
}
