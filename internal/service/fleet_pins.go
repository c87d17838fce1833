package service

import (
	"context"
	"encoding/json"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/sending"
)

// Pins to another host's modem or operator (docs/fleet-plan.md §1): a
// message pinned to a modem, or to an operator, that this host does not
// serve is accepted in a fleet when a live host does. Its work subject
// carries the pin (gsmbridge.work.msg.modem.<id>, .op.<plmn>), and only a
// host with a free lane of that modem or operator opens a pull on it, so
// the host that holds the modem takes the message and no other can.

// Serves says whether another live host runs the pinned modem, or has a
// SIM of the pinned operator in a modem, per the heartbeats. They are read
// now rather than from the last survey: a modem plugged into another host
// is pinnable from its first beat, and the read costs a request per host
// only for pins this host cannot serve itself. A fleet that cannot be read
// is 503 fleet_unavailable.
func (f fleetSending) Serves(ctx context.Context, p sending.Pin) (bool, error) {
	beats, err := f.d.fleet.Conn.Hosts(ctx)
	if err != nil {
		return false, fleetUnavailable(err)
	}
	for _, b := range beats {
		if b.Host == f.d.fleet.Conn.Host() {
			continue
		}
		var st api.HostState
		if json.Unmarshal(b.State, &st) != nil {
			continue
		}
		for _, m := range st.Modems {
			if p.Modem != "" && m.ID == p.Modem || p.Operator != "" && m.Operator.PLMN == p.Operator && m.ICCID != "" {
				return true, nil
			}
		}
	}
	return false, nil
}
