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
// lives finishedMarkerKeep, not the bucket's 30 days: a listing of "c.>"
// streams every marker as well as every claim, and every host surveys the
// claims every few seconds, so 30 days of finished work would make each
// survey read millions of markers. The marker is what makes a write at
// revision 0 fail for finished work (Take's one-write path); Take takes
// that path only for work accepted less than youngWork ago, while a
// marker of its finish must still be there, and reads the finish note
// ("w.<id>", kept 30 days) for older work.
const (
	finishedMarkerKeep = 10 * time.Minute
	youngWork          = finishedMarkerKeep / 2
)

// young says whether w was accepted less than youngWork ago, so that a
// finish of it would have left a marker that still lives. The age counts
// from the older of the accepting host's stamp and the work stream's, so
// that neither a clock running ahead on the accepting host nor a release's
// fresh copy makes old work young; a stamp from the future is not young.
// The markers expire by the cluster's clock: a host whose clock is not
// known to agree with it (before its first heartbeat, or found behind)
// reads the finish note every time.
func (cl *Claims) young(w Work) bool {
	if !cl.c.clock.trusted() {
		return false
	}
	since := w.AcceptedAt
	if !w.queuedAt.IsZero() && w.queuedAt.Before(since) {
		since = w.queuedAt
	}
	age := time.Since(since)
	return age >= 0 && age < youngWork
}

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
