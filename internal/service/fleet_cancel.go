package service

import (
	"context"
	"errors"
	"net/http"

	"github.com/gsmbridge/gsmbridge/internal/fleet"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
)

// cancelThroughFleet answers a DELETE of work of kind that this host does
// not hold: the holder cancels it, asked through the cluster. Work no
// host took yet is taken here and stored by storeHere without being
// queued; it reports false then, as for work this host holds or the fleet
// never accepted, and the caller cancels it from this host's store. The
// claim keeps other hosts off it, and the copy left in the stream is
// dropped by the host that pulls it once the claim is finished.
func (d *Service) cancelThroughFleet(w http.ResponseWriter, r *http.Request, id, kind string, storeHere func(context.Context, fleet.Work) error) bool {
	if d.answersAlone(r) {
		return false
	}
	// Once a claim is taken to cancel its work here, the rest must happen
	// whether or not the client waits: left half done, the work would be
	// claimed by this host and in no queue, and sent after a restart.
	ctx := context.WithoutCancel(r.Context())
	at, known, answered := locate(ctx, d.fleet, w, id, kind)
	if answered || !known {
		return answered
	}
	holder, state, work := at.holder, at.state, at.accepted
	if state == fleet.Released {
		// Handed back to the fleet and not taken again: the copy in the
		// stream would be, and sent. It is taken here to be cancelled.
		holder, work = "", at.claim.Work
	}
	if holder == "" {
		rev, err := d.fleet.Claims.Take(ctx, work)
		switch {
		case err == nil:
			if err := storeHere(ctx, work); err != nil {
				d.fleet.Claims.Drop(ctx, id, rev)
				httpapi.WriteError(w, err)
				return true
			}
			return false
		case errors.Is(err, fleet.ErrClaimedElsewhere), errors.Is(err, fleet.ErrFinished):
			// Another host took it meanwhile: it cancels it.
			if holder, state, err = d.fleet.Claims.Holder(ctx, id); err != nil {
				writeFleetUnavailable(w, err)
				return true
			}
		default:
			writeFleetUnavailable(w, err)
			return true
		}
	}
	if holder == d.fleet.Conn.Host() || holder == at.holder && at.mine {
		return false
	}
	status, body, err := d.forwardTo(ctx, holder, http.MethodDelete, r.URL.Path, "", nil, forwardMargin)
	if err != nil {
		writeHostDown(w, id, holder, state, err)
		return true
	}
	writeForwarded(w, status, body)
	return true
}

// Cancel passes a DELETE of a message to its holder; one no host took yet
// is taken here, stored unqueued, and cancelled by the caller.
func (f fleetSending) Cancel(w http.ResponseWriter, r *http.Request, id string) bool {
	return f.d.cancelThroughFleet(w, r, id, fleet.KindMessage, func(ctx context.Context, work fleet.Work) error {
		return fleetLocal{f.d}.store(ctx, []fleet.Work{work}, false)[0]
	})
}
