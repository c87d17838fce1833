package fleet

import (
	"errors"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
)

// Two live hosts carry one identity when a data directory was copied to
// another machine and the original was cut off (or paused) past its
// heartbeat meanwhile, so the copy could join. Claims name their owner by
// identity, so each would have taken the other's claims for its own: a
// redelivery (the first host paused past the ack wait) taken and sent by
// both. A claim made under another live host's name is that host's,
// whatever identity it carries; one made under a name no live host beats
// with is this host's own from before a rename, as always.
func TestAClaimUnderAnotherLiveNameIsNotTakenForOnesOwn(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a, clone := newHost(t, f, "a"), newHost(t, f, "clone")
	clone.claims = clone.conn.Claims("id-a")
	ctx := t.Context()
	if _, err := a.conn.Join(ctx, "id-a", time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		try  func(w Work) error
		want error
	}{
		{"a redelivery", func(w Work) error { _, err := clone.claims.Take(ctx, w); return err }, ErrClaimedElsewhere},
		{"a copy queued before the fleet", func(w Work) error { return clone.claims.Adopt(ctx, w) }, ErrClaimedElsewhere},
		{"its send", func(w Work) error { return clone.claims.StartSending(ctx, w.ID) }, ErrReleased},
		{"its finish", func(w Work) error { return clone.claims.Finish(ctx, w.ID) }, ErrClaimedElsewhere},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := work("msg_"+string(rune('a'+i)), Route{})
			if _, err := a.claims.Take(ctx, w); err != nil {
				t.Fatal(err)
			}
			if err := tt.try(w); !errors.Is(err, tt.want) {
				t.Fatalf("%s of a's claim, by the clone: %v, want %v", tt.name, err, tt.want)
			}
			if err := a.claims.StartSending(ctx, w.ID); err != nil {
				t.Fatalf("a's own send after it: %v", err)
			}
		})
	}

	// A host renamed (same identity, old name no longer beating) still
	// takes what it claimed under the old name.
	w := work("msg_renamed", Route{})
	old := newHost(t, f, "old")
	old.claims = old.conn.Claims("id-old")
	if _, err := old.claims.Take(ctx, w); err != nil {
		t.Fatal(err)
	}
	renamed := newHost(t, f, "new")
	renamed.claims = renamed.conn.Claims("id-old")
	if _, err := renamed.claims.Take(ctx, w); err != nil {
		t.Fatalf("a renamed host taking its own claim: %v", err)
	}
	if err := renamed.claims.StartSending(ctx, w.ID); err != nil {
		t.Fatalf("a renamed host sending its own claim: %v", err)
	}
}
