package fleet

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A claim that ends (finished, dropped) is purged, and its purge marker
// lives finishedMarkerKeep, not the bucket's 30 days: every host surveys
// the claims every few seconds, and a listing of "c.>" streams every
// marker as well as every claim. Markers that lived 10 minutes (so that
// young work could be claimed without reading its finish note) made each
// survey read every message finished in those minutes: some 360 reads per
// message on three hosts against the one note read per claim they saved.
// A claim's finish note ("w.<id>", kept 30 days) is what stops a late copy
// of finished work; the marker only has to go.
const finishedMarkerKeep = time.Second

// ended purges the claim under key at rev, leaving a marker that expires.
// A cluster whose servers cannot expire markers (older than NATS 2.11, or a
// bucket whose stream refused per-message TTLs) keeps a marker for the
// bucket's age instead, as before: safe, only slower to survey.
func (cl *Claims) ended(ctx context.Context, kv jetstream.KeyValue, key string, rev uint64) error {
	if keep := cl.c.markers.get(); keep > 0 {
		err := kv.Purge(ctx, key, jetstream.LastRevision(rev), jetstream.PurgeTTL(keep))
		if !ttlRefused(err) {
			return err
		}
		cl.c.markers.refused(cl.c.log)
	}
	return kv.Purge(ctx, key, jetstream.LastRevision(rev))
}

// markerKeep is how long the marker of an ended claim lives, 0 once the
// cluster refused to expire them.
type markerKeep struct{ atomic.Int64 }

func (k *markerKeep) get() time.Duration { return time.Duration(k.Load()) }

func (k *markerKeep) refused(log *slog.Logger) {
	if k.Swap(0) != 0 {
		log.Warn("fleet: the claims bucket keeps ended claims' markers for its whole age: its stream refuses per-message TTLs (NATS servers before 2.11); surveys of the fleet slow down as finished work piles up")
	}
}

// ttlRefused says a publish was refused for its per-message TTL.
func ttlRefused(err error) bool {
	var api *jetstream.APIError
	return errors.As(err, &api) && api.ErrorCode == errCodeMessageTTLDisabled
}

// errCodeMessageTTLDisabled is the server's JSMessageTTLDisabledErr.
const errCodeMessageTTLDisabled jetstream.ErrorCode = 10166
