package service

import (
	"context"
	"errors"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/health"
)

// fleetStatus is the fleet as the status page shows it.
type fleetStatus struct{ d *Service }

// fleetStatusView is the status page's fleet section: nil without a fleet
// section in the configuration. The fleet is joined after the page is
// built, so the view looks at d.fleet when asked.
func fleetStatusView(d *Service) health.FleetView {
	if !d.cfg.Fleet.Enabled() {
		return nil
	}
	return fleetStatus{d}
}

// fleetMember is the host's place in the fleet as /readyz checks it: nil
// without a fleet section in the configuration.
func fleetMember(d *Service) health.FleetMember {
	if !d.cfg.Fleet.Enabled() {
		return nil
	}
	return fleetStatus{d}
}

// Ready says why this host cannot take work for the fleet now, or nil.
func (f fleetStatus) Ready() error {
	if f.d.fleet == nil {
		return errors.New("not in the fleet yet: the daemon is starting")
	}
	return f.d.fleet.Ready()
}

// FleetStatus lists the fleet's hosts with their modems and the work they
// hold; nil on a host alone.
func (f fleetStatus) FleetStatus(ctx context.Context) *health.StatusFleet {
	if f.d.fleet == nil {
		return nil
	}
	out := &health.StatusFleet{Self: f.d.fleet.Conn.Host(), Hosts: []health.StatusHost{}}
	hosts, err := fleetView{f.d}.hosts(ctx)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	for _, h := range hosts {
		sh := health.StatusHost{Host: h.Host, Alive: h.Alive, LastBeat: h.LastBeat, Taken: h.Taken, Sending: h.Sending, Released: h.Released}
		if h.State != nil {
			sh.Modems, sh.SIMs = len(h.State.Modems), len(h.State.SIMs)
			for _, m := range h.State.Modems {
				if m.State == api.ModemReady {
					sh.ModemsReady++
				}
			}
		}
		if !h.Alive {
			sh.Stranded = h.Taken + h.Sending
		}
		out.Hosts = append(out.Hosts, sh)
	}
	return out
}
