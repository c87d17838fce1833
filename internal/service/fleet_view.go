package service

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/fleet"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// One view of the fleet (docs/fleet-plan.md §5): GET /v1/hosts, and
// GET /v1/modems and /v1/sims with ?fleet=true, answer from the hosts'
// heartbeats. A heartbeat carries the host's modems and SIMs as its own
// listings show them, so a listing costs one read of the hosts bucket, not
// a request to every host; it is at most one beat old (HeartbeatTTL/3);
// and a host that stopped beating is still shown as it last described
// itself, marked host_down. This host's own rows are read live.

// fleetView is the fleet as this host shows it: its heartbeat's state,
// the hosts, the ?fleet=true listings and the status page's fleet section.
type fleetView struct{ d *Service }

// hostState is what this host's heartbeat tells the fleet.
func (v fleetView) hostState(ctx context.Context) api.HostState {
	d := v.d
	st := api.HostState{Modems: d.Modems(), SIMs: []api.SIM{}}
	sims, err := d.store.Devices.SIMs(ctx)
	if err != nil {
		// The beat goes without SIMs rather than not at all: a missing
		// beat would mark the host down.
		d.log.Warn("fleet: reading the SIMs for the heartbeat", "err", err)
	}
	for i := range sims {
		st.SIMs = append(st.SIMs, store.SIMView(&sims[i]))
	}
	return st
}

// hosts is every host the fleet knows (alive, or dead and holding
// unfinished work), this one with its live state.
func (v fleetView) hosts(ctx context.Context) ([]api.Host, error) {
	d := v.d
	views, err := d.fleet.Conn.Survey(ctx, d.fleet.Claims)
	if err != nil {
		return nil, err
	}
	self := d.fleet.Conn.Host()
	out := make([]api.Host, 0, len(views)+1)
	seen := false
	for _, hv := range views {
		h := api.Host{Host: hv.Host, Alive: hv.Alive, Taken: hv.Taken, Sending: hv.Sending, Released: hv.Released}
		if hv.Started != nil {
			h.Started = *hv.Started
		}
		if hv.LastBeat != nil {
			h.LastBeat = *hv.LastBeat
		}
		if hv.Host == self {
			// Answering this request, it is alive whatever its last beat says.
			seen, h.Alive = true, true
			st := v.hostState(ctx)
			h.State = &st
		} else if len(hv.State) > 0 {
			var st api.HostState
			if err := json.Unmarshal(hv.State, &st); err != nil {
				d.log.Warn("fleet: a heartbeat's state is not a host state", "host", hv.Host, "err", err)
			} else {
				h.State = &st
			}
		}
		out = append(out, h)
	}
	if !seen {
		// Not joined yet (the cluster was unreachable at start).
		st := v.hostState(ctx)
		out = append(out, api.Host{Host: self, Alive: true, State: &st})
	}
	return out, nil
}

// wants reads ?fleet=: it answers the request itself (and reports
// done) when the value is wrong or this host has no fleet, the same
// not_in_fleet as GET /v1/hosts.
func (v fleetView) wants(w http.ResponseWriter, r *http.Request) (want, done bool) {
	q := r.URL.Query().Get("fleet")
	if q == "" {
		return false, false
	}
	on, err := strconv.ParseBool(q)
	switch {
	case err != nil:
		httpapi.WriteError(w, httpapi.BadField("fleet", "must be true or false"))
		return false, true
	case on && v.d.fleet == nil:
		httpapi.WriteError(w, errNotInFleet)
		return false, true
	}
	return on, false
}

// withFleetListings lets GET /v1/modems and /v1/sims answer ?fleet=true:
// the features that serve them list this host's own, and the fleet's
// listing goes first.
func (v fleetView) withListings(routes []httpapi.Route) []httpapi.Route {
	for i, rt := range routes {
		var fleetList func(http.ResponseWriter, *http.Request) bool
		switch {
		case rt.Method == http.MethodGet && rt.Pattern == "/v1/modems":
			fleetList = v.listModems
		case rt.Method == http.MethodGet && rt.Pattern == "/v1/sims":
			fleetList = v.listSIMs
		default:
			continue
		}
		local := rt.Handler
		routes[i].Handler = func(w http.ResponseWriter, r *http.Request) {
			if !fleetList(w, r) {
				local(w, r)
			}
		}
	}
	return routes
}

// listModems answers GET /v1/modems?fleet=true: every host's modems,
// each with its host. It reports whether it answered.
func (v fleetView) listModems(w http.ResponseWriter, r *http.Request) bool {
	return listFleet(v, w, r, func(st *api.HostState) []api.Modem { return st.Modems },
		func(m *api.Modem, host string, down bool) { m.Host, m.HostDown = host, down },
		func(rows []api.Modem) any { return api.ModemList{Modems: rows} })
}

// listSIMs answers GET /v1/sims?fleet=true: the SIMs every host has
// seen, each with its host. A SIM moved from one host to another is listed
// by both, each with what that host knows of it.
func (v fleetView) listSIMs(w http.ResponseWriter, r *http.Request) bool {
	return listFleet(v, w, r, func(st *api.HostState) []api.SIM { return st.SIMs },
		func(s *api.SIM, host string, down bool) { s.Host, s.HostDown = host, down },
		func(rows []api.SIM) any { return api.SIMList{SIMs: rows} })
}

// listFleet answers a ?fleet=true listing from the heartbeats: the rows
// each host's state carries, each tagged with its host. It reports whether
// it answered.
func listFleet[T any](v fleetView, w http.ResponseWriter, r *http.Request,
	rows func(*api.HostState) []T, tag func(row *T, host string, down bool), list func([]T) any) bool {
	want, done := v.wants(w, r)
	if !want {
		return done
	}
	hosts, err := v.hosts(r.Context())
	if err != nil {
		httpapi.WriteError(w, fleetUnavailable(err))
		return true
	}
	out := []T{}
	for _, h := range hosts {
		if h.State == nil {
			continue
		}
		for _, row := range rows(h.State) {
			tag(&row, h.Host, !h.Alive)
			out = append(out, row)
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, list(out))
	return true
}

func fleetUnavailable(err error) *httpapi.Error {
	return &httpapi.Error{Status: http.StatusServiceUnavailable, Code: "fleet_unavailable", Message: err.Error()}
}

// fleetRefused is a POST the fleet could not make durable: 503, and
// fleet_unconfirmed when the cluster may have stored it all the same (the
// message names its id; a retry under the same Idempotency-Key or
// confirmation id is safe, one under a new id may send it twice).
func fleetRefused(err error) *httpapi.Error {
	e := fleetUnavailable(err)
	if errors.Is(err, fleet.ErrUnconfirmed) {
		e.Code = "fleet_unconfirmed"
	}
	return e
}

// state is the heartbeat's state as the fleet carries it.
func (v fleetView) state(ctx context.Context) json.RawMessage {
	b, _ := json.Marshal(v.hostState(ctx))
	return b
}

var _ fleet.Local = fleetLocal{}
