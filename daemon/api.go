package daemon

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// allRoutes gathers every feature's routes.
func (d *Daemon) allRoutes() []httpapi.Route {
	return slices.Concat(d.messageRoutes(), d.modemRoutes(), d.receiving.Routes(), d.events.Routes(), d.ussd.Routes(), d.confirm.Routes(), d.registry.Routes(), d.retention.Routes(), d.health.Routes(), d.status.Routes(), d.fleetRoutes())
}

func (d *Daemon) modemRoutes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/v1/modems", Scope: config.ScopeRead, Handler: d.listModems},
		{Method: "GET", Pattern: "/v1/modems/{id}", Scope: config.ScopeRead, Handler: d.getModem},
		{Method: "GET", Pattern: "/v1/sims", Scope: config.ScopeRead, Handler: d.listSIMs},
		{Method: "POST", Pattern: "/v1/sims/{iccid}/resume", Scope: config.ScopeAdmin, Handler: d.resumeSIM},
	}
}

// Handler is the daemon's whole HTTP surface.
func (d *Daemon) Handler() http.Handler {
	if d.observe != nil {
		return d.observe(d.api)
	}
	return d.api
}

func (d *Daemon) listModems(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, api.ModemList{Modems: d.Modems()})
}

func (d *Daemon) getModem(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for _, m := range d.Modems() {
		if m.ID == id {
			httpapi.WriteJSON(w, http.StatusOK, m)
			return
		}
	}
	httpapi.WriteError(w, fmt.Errorf("modem %s: %w", id, store.ErrNotFound))
}

func (d *Daemon) listSIMs(w http.ResponseWriter, r *http.Request) {
	sims, err := d.store.Devices.SIMs(r.Context())
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	out := api.SIMList{SIMs: make([]api.SIM, len(sims))}
	for i := range sims {
		out.SIMs[i] = store.SIMView(&sims[i])
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// resumeSIM puts a suspect SIM back to work at the operator's word.
func (d *Daemon) resumeSIM(w http.ResponseWriter, r *http.Request) {
	iccid := r.PathValue("iccid")
	sim, err := d.store.Devices.ResumeSIM(r.Context(), iccid, "resumed through the API")
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	for _, m := range d.Modems() {
		if m.ICCID == iccid {
			d.resumeLane(m.ID)
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, store.SIMView(&sim))
}
