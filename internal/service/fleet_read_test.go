package service

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/fleet"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
)

// A message another host claimed a moment ago and has not stored yet reads
// queued, not 404: the holder does not know it until its store commits.
func TestAMessageClaimedButNotYetStoredReadsQueued(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startHarnessWith(t, func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
	})
	var acc struct{ ID string }
	if code := a.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "Платёж 7"}, &acc); code != 202 {
		t.Fatalf("POST: %d", code)
	}
	// Host b claims it and stops short of storing it.
	cfg := config.Default().Fleet
	cfg.Servers, cfg.Replicas = nats.URLs(), 1
	b, err := fleet.Dial(cfg, "b", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	if _, err := b.Join(ctx, "id-b", time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Claims("id-b").Take(ctx, fleet.Work{Kind: fleet.KindMessage, ID: acc.ID}); err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.Forward().Serve(ctx, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			httpapi.WriteError(w, &httpapi.Error{Status: http.StatusNotFound, Code: "not_found", Message: "not stored yet"})
		}))
	}()
	var m struct{ ID, State string }
	eventually(t, "b answering a's forwarded read", func() bool {
		code := a.do("GET", "/v1/messages/"+acc.ID, nil, &m)
		if code == 404 {
			t.Fatalf("GET of a message b claimed and has not stored: 404")
		}
		return code == 200
	})
	if m.ID != acc.ID || m.State != "queued" {
		t.Fatalf("GET: %+v", m)
	}
}
