package service

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/fleet"
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
		modems, ok := peerModems(f.d.fleet.Conn.Host(), b.Host, b.State)
		if ok && slices.ContainsFunc(modems, func(m api.Modem) bool {
			return p.Modem != "" && m.ID == p.Modem || p.Operator != "" && m.Operator.PLMN == p.Operator && m.ICCID != ""
		}) {
			hosts = append(hosts, b.Host)
		}
	}
	return hosts, nil
}

// peerModems reads the modems in another host's heartbeat state; ok is
// false for this host's own beat (self) and for a state that is not a host
// state.
func peerModems(self, host string, state json.RawMessage) (modems []api.Modem, ok bool) {
	var st api.HostState
	if host == self || json.Unmarshal(state, &st) != nil {
		return nil, false
	}
	return st.Modems, true
}

// sharedModemIDs maps each of own's modem ids that a modem of another live
// host also has to those hosts, per the survey's heartbeats. A modem's id is
// its IMEI, which clone modems repeat, or its USB path or port when it has
// none, which every host has its own of.
func sharedModemIDs(self string, own []api.Modem, views []fleet.HostView) map[string][]string {
	shared := map[string][]string{}
	for _, v := range views {
		theirs, ok := peerModems(self, v.Host, v.State)
		if !ok || !v.Alive {
			continue
		}
		for _, m := range own {
			if m.ID != "" && slices.ContainsFunc(theirs, func(o api.Modem) bool { return o.ID == m.ID }) {
				shared[m.ID] = append(shared[m.ID], v.Host)
			}
		}
	}
	return shared
}

// modemIDWarnings tells the log once about each modem id this host shares
// with another host, while it does: a payment core that pins the modem
// gets 422 ambiguous_modem, and the operator learns why from here before
// the first refusal. Only the node's survey loop calls it.
type modemIDWarnings struct {
	modems func() []api.Modem // this host's
	log    *slog.Logger
	warned map[sharedID]bool
}

// sharedID is a modem id of this host that another host's modem also has.
type sharedID struct{ modem, host string }

func (w *modemIDWarnings) count(self string, views []fleet.HostView) int {
	shared := sharedModemIDs(self, w.modems(), views)
	now := map[sharedID]bool{}
	for id, hosts := range shared {
		for _, h := range hosts {
			k := sharedID{id, h}
			now[k] = true
			if !w.warned[k] {
				w.log.Warn("fleet: a modem of this host has the id of a modem on another host; messages cannot be pinned to either (422 ambiguous_modem), pin their operator",
					"modem", id, "host", h)
			}
		}
	}
	w.warned = now
	return len(shared)
}
