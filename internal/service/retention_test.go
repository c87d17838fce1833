package service

import (
	"context"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// A fleet host's publisher and claim finisher read the event log like a
// webhook does: an event past events_after that one of them has not
// handled yet (the host was cut off from its cluster) must stay, or the
// fleet never learns of it and the claim stays held.
func TestRetentionKeepsEventsTheFleetHasNotHandled(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st, err := store.Open(t.TempDir(), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for i := range 4 {
		if err := st.Events.AppendEvent(ctx, "modem.noise", "modem", "m", i+1, map[string]int{}); err != nil {
			t.Fatal(err)
		}
	}
	// The publisher got to event 2, the claim finisher to 3.
	if err := st.Deliveries.SaveFollowerCursor(ctx, "fleet-events", 2); err != nil {
		t.Fatal(err)
	}
	if err := st.Deliveries.SaveFollowerCursor(ctx, "fleet-claims", 3); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Fleet.Servers, cfg.Fleet.Host = []string{"nats://127.0.0.1:4222"}, "a"
	now = now.Add(48 * time.Hour)
	res, err := st.Upkeep.Purge(ctx, store.Retention{EventsAfter: time.Hour, Webhooks: logReaders(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	left, err := st.Events.Events(ctx, store.EventFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0].ID != 3 || !res.EventsHeld {
		t.Fatalf("purge %+v left %d events (first %v); want 3 and 4 kept for the publisher", res, len(left), left)
	}

	// Without a fleet nothing follows the log but the webhooks.
	cfg.Fleet.Servers = nil
	if r := logReaders(cfg); len(r) != 0 {
		t.Fatalf("a host alone keeps events for %q", r)
	}
}
