package service

import (
	"net/http"
	"slices"

	"github.com/gsmbridge/gsmbridge/internal/httpapi"
)

// allRoutes gathers every feature's routes.
func (d *Service) allRoutes() []httpapi.Route {
	return fleetView{d}.withListings(slices.Concat(d.sending.Routes(), d.modems.Routes(), d.receiving.Routes(), d.events.Routes(), d.ussd.Routes(), d.confirm.Routes(), d.registry.Routes(), d.retention.Routes(), d.health.Routes(), d.status.Routes(), d.fleetRoutes()))
}

// Handler is the daemon's whole HTTP surface.
func (d *Service) Handler() http.Handler {
	if d.observe != nil {
		return d.observe(d.api)
	}
	return d.api
}
