package service

import (
	"context"

	"github.com/gsmbridge/gsmbridge/internal/fleet"
)

// fleetMayEnd says whether this host's queued copy of a message may end
// here: unless the fleet's claim on it names another host (taken there,
// or finished there) or was released to the others, as it is after this
// host was paused or cut off past its lease and its work was released.
// Such a copy is dropped unsent and the other host reports the message;
// reported expired here as well, the payment core would read both. A host
// that cannot ask the cluster ends its copy: nothing goes out either way.
func (d *Service) fleetMayEnd(ctx context.Context, id string) bool {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Fleet.PublishTimeout)
	defer cancel()
	holder, state, err := d.fleet.Claims.Holder(ctx, id)
	if err != nil || holder == "" || holder == d.fleet.Conn.Host() && state != fleet.Released {
		return true
	}
	d.log.Warn("fleet: this host's copy of a message belongs to another host now; dropping it unsent", "message", id, "holder", holder, "claim", state)
	if err := d.store.Messages.DropQueued(ctx, id); err != nil {
		d.log.Error("fleet: dropping a message another host holds; it expires here instead", "message", id, "err", err)
		return true
	}
	return false
}
