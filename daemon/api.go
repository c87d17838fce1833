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
	return slices.Concat(d.sending.Routes(), d.modemRoutes(), d.receiving.Routes(), d.events.Routes(), d.ussd.Routes(), d.confirm.Routes(), d.registry.Routes(), d.retention.Routes(), d.health.Routes(), d.status.Routes(), d.fleetRoutes())
}

func (d *Daemon) modemRoutes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/v1/modems", Scope: config.ScopeRead, Handler: d.listModems},
		{Method: "GET", Pattern: "/v1/modems/{id}", Scope: config.ScopeRead, Handler: d.getModem},
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
