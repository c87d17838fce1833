package service

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/sending"
)

// Pins to another host's modem or operator (docs/fleet-plan.md §1): a
// message pinned to a modem, or to an operator, that this host does not
// serve is accepted in a fleet when a live host does. Its work subject
// carries the pin (gsmbridge.work.msg.modem.<id>, .op.<plmn>), and only a
// host with a free lane of that modem or operator opens a pull on it, so
// the host that holds the modem takes the message and no other can.

// ServedBy names the other live hosts that run the pinned modem, or have a
// SIM of the pinned operator in a modem, per the heartbeats. They are read
// now rather than from the last survey: a modem plugged into another host
// is pinnable from its first beat, and the read costs a request per host
// only for modem pins and the operator pins this host cannot serve itself.
// A fleet that cannot be read is 503 fleet_unavailable.
func (f fleetSending) ServedBy(ctx context.Context, p sending.Pin) ([]string, error) {
	beats, err := f.d.fleet.Conn.Hosts(ctx)
	if err != nil {
		return nil, fleetUnavailable(err)
	}
	var hosts []string
	for _, b := range beats {
		if b.Host == f.d.fleet.Conn.Host() {
			continue
		}
		var st api.HostState
		if json.Unmarshal(b.State, &st) != nil {
			continue
		}
		if slices.ContainsFunc(st.Modems, func(m api.Modem) bool {
			return p.Modem != "" && m.ID == p.Modem || p.Operator != "" && m.Operator.PLMN == p.Operator && m.ICCID != ""
		}) {
			hosts = append(hosts, b.Host)
		}
	}
	return hosts, nil
}
