// Package health answers whether the service lives and can work: GET
// /healthz (the process answers) and GET /readyz (the store commits and a
// SIM is ready), from snapshots, never by talking to a modem.
package health

import (
	"context"
	_ "embed"
	"net/http"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Store is what the checks read of the store's writer.
type Store interface {
	// Probe makes a real write through the store's writer.
	Probe(ctx context.Context) error
	Health() store.Health
}

// SIMs lists the SIMs the store knows (store.Devices).
type SIMs interface {
	SIMs(ctx context.Context) ([]store.SIM, error)
}

// ModemView gives the modems' snapshots.
type ModemView interface {
	Modems() []api.Modem
}

// Options tune the checks.
type Options struct {
	// StorageWarnPercent is how full a modem's SMS storage may get before
	// /readyz warns (receive.storage_warn_percent).
	StorageWarnPercent int
	// Fleet, on a host of a fleet, says whether the host is in it: the
	// API accepts work only through the cluster.
	Fleet FleetMember
}

// FleetMember is this host's membership of a fleet.
type FleetMember interface {
	// Ready returns why the host cannot take work for the fleet now.
	Ready() error
}

// Health serves the health endpoints. Safe for concurrent use.
type Health struct {
	store              Store
	sims               SIMs
	modems             ModemView
	storageWarnPercent int
	fleet              FleetMember
}

// New reads st, sims and modems at each request.
func New(st Store, sims SIMs, modems ModemView, o Options) *Health {
	return &Health{store: st, sims: sims, modems: modems, storageWarnPercent: o.StorageWarnPercent, fleet: o.Fleet}
}

//go:embed openapi.json
var fragment []byte

// OpenAPI is the part of the API document that describes Routes.
func OpenAPI() httpapi.Fragment {
	return httpapi.Fragment{Name: "internal/health/openapi.json", JSON: fragment}
}

// Routes are open: a load balancer or a supervisor has no token, and
// neither answer shows a phone number or a whole ICCID.
func (h *Health) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/healthz", Open: true, Handler: healthz},
		{Method: "GET", Pattern: "/readyz", Open: true, Handler: h.readyz},
	}
}

func healthz(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
