package modem

import (
	_ "embed"
	"fmt"
	"net/http"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

//go:embed openapi.json
var fragment []byte

// OpenAPI is the part of the API document that describes Routes.
func OpenAPI() httpapi.Fragment {
	return httpapi.Fragment{Name: "internal/modem/openapi.json", JSON: fragment}
}

// Routes serve /v1/modems.
func (p *Pool) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/v1/modems", Scope: config.ScopeRead, Handler: p.list},
		{Method: "GET", Pattern: "/v1/modems/{id}", Scope: config.ScopeRead, Handler: p.get},
	}
}

func (p *Pool) list(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, api.ModemList{Modems: p.Modems()})
}

func (p *Pool) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for _, m := range p.Modems() {
		if m.ID == id {
			httpapi.WriteJSON(w, http.StatusOK, m)
			return
		}
	}
	httpapi.WriteError(w, fmt.Errorf("modem %s: %w", id, store.ErrNotFound))
}
