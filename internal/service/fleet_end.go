package service

import (
	"context"
	"errors"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/fleet"
)

// mayEndAsk bounds fleetMayEnd's question to the cluster: the scheduler
// expires messages on its own goroutine, and a cluster without a leader
// for the claims would otherwise stall every lane's dispatch.
const mayEndAsk = time.Second

// fleetMayEnd says whether this host's queued copy of a message may end
// here: unless the fleet's claim on it is another host's (by identity, so
// a host renamed keeps its own) or was released to the others, or the work
// finished elsewhere, as after this host was paused or cut off past its
// lease and its work released. Such a copy is dropped unsent and the other
// host reports the message; reported expired here as well, the payment
// core would read both. A host that cannot ask the cluster in time ends its
// copy: nothing goes out either way.
func (d *Service) fleetMayEnd(ctx context.Context, id string) bool {
	ctx, cancel := context.WithTimeout(ctx, mayEndAsk)
	defer cancel()
	c, _, err := d.fleet.Claims.Get(ctx, id)
	switch {
	case err == nil:
		if d.fleet.Claims.Mine(c) && c.State != fleet.Released {
			return true
		}
	case errors.Is(err, fleet.ErrNoClaim):
		// Never claimed (this host's own work, a confirmation's SMS), or
		// finished: the note says where.
		if holder, err := d.fleet.Claims.FinishedOn(ctx, id); err != nil || holder == "" {
			return true
		}
	default:
		return true
	}
	d.log.Warn("fleet: this host's copy of a message belongs to another host now; dropping it unsent", "message", id)
	if err := d.store.Messages.DropQueued(ctx, id); err != nil {
		d.log.Error("fleet: dropping a message another host holds; it ends here instead", "message", id, "err", err)
		return true
	}
	return false
}
