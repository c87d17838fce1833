package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/fleet"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Reads of work any host of the fleet holds (docs/fleet-plan.md §5): the
// holder answers through the cluster, long polls included.

// answerFromFleet answers a read of a message this host does not hold,
// from the fleet: by its claim (readFromFleet), or else from whichever
// host made it (askEveryHost). It reports false when the fleet knows no
// such id either (the caller answers 404).
func (d *Service) answerFromFleet(w http.ResponseWriter, r *http.Request, id string) bool {
	return d.readFromFleet(w, r, id, fleet.KindMessage, queuedMessageView) || d.askEveryHost(w, r, id)
}

// answersAlone says this host answers r from its own store: it is in no
// fleet, or r is a request another host passed here, which is never
// passed on again.
func (d *Service) answersAlone(r *http.Request) bool {
	return d.fleet == nil || r.Header.Get(fleet.ForwardedHeader) != ""
}

func queuedMessageView(work fleet.Work) any {
	var fm fleetMessage
	json.Unmarshal(work.Request, &fm)
	return store.MessageView(&store.Message{ID: work.ID, Reference: fm.Reference, To: fm.To, Text: fm.Text,
		Encoding: fm.Encoding, Parts: fm.Parts, PinModem: fm.PinModem, PinOperator: fm.PinOperator, Report: fm.Report,
		State: store.Queued, Seq: 1, CreatedAt: work.AcceptedAt, ExpiresAt: fm.ExpiresAt, UpdatedAt: work.AcceptedAt,
		PartList: pendingParts(fm.Parts)})
}

// askEveryHost finds a message no claim names: one its host made itself,
// a confirmation's SMS or its cancel notice, whose id the caller learnt
// from the confirmation. Claiming such messages in the cluster too would
// cost every confirmation another replicated write, so the rare read of
// one on another host asks every live host at once instead, and the one
// holding it answers. It reports false when every live host answered
// that it holds no such message (the caller answers 404); a host that did
// not answer, or failed to read its store, makes it 503, since that host
// may be the one. A host whose heartbeat expired is not asked: its SMS
// reads 404 until it is back, while its confirmation reads 503.
func (d *Service) askEveryHost(w http.ResponseWriter, r *http.Request, id string) bool {
	if d.answersAlone(r) {
		return false
	}
	ctx := r.Context()
	beats, err := d.fleet.Conn.Hosts(ctx)
	if err != nil {
		writeFleetUnavailable(w, err)
		return true
	}
	// A message read does not long-poll, so every host answers at once.
	ctx, cancel := context.WithTimeout(ctx, forwardMargin)
	defer cancel()
	type answer struct {
		host   string
		status int
		body   json.RawMessage
		err    error
	}
	answers := make(chan answer, len(beats))
	asked := 0
	for _, b := range beats {
		if b.Host == d.fleet.Conn.Host() {
			continue
		}
		asked++
		go func() {
			status, body, err := d.fleet.Conn.Forward().Do(ctx, b.Host, http.MethodGet, r.URL.Path, r.URL.RawQuery, nil)
			answers <- answer{b.Host, status, body, err}
		}()
	}
	var silent []string
	for range asked {
		a := <-answers
		switch {
		case a.err != nil, a.status >= 500:
			// A host whose store failed may be the holder, and must
			// not win over the holder's answer either.
			silent = append(silent, a.host)
		case a.status != http.StatusNotFound:
			writeForwarded(w, a.status, a.body)
			return true
		}
	}
	if len(silent) == 0 {
		return false
	}
	slices.Sort(silent)
	httpapi.WriteError(w, &httpapi.Error{Status: http.StatusServiceUnavailable, Code: "host_unavailable",
		Message: fmt.Sprintf("no host that answered holds %s; %s did not answer and may", id, strings.Join(silent, ", "))})
	return true
}

// forwardMargin is what a forwarded read may take beyond its long poll's
// wait: the round trip through the cluster to the holder and back.
const forwardMargin = 5 * time.Second

// place is where the fleet has a piece of work: the host holding it, its
// claim's state and whether the claim is this host's, or no holder and
// the work as the fleet accepted it.
type place struct {
	holder   string
	state    fleet.ClaimState
	mine     bool
	claim    fleet.Claim
	accepted fleet.Work
}

// locate finds work of kind under id in the fleet. known is false when
// the fleet knows no such work; answered is true when the cluster could
// not be asked, which w was answered (503).
func locate(ctx context.Context, f *fleet.Node, w http.ResponseWriter, id, kind string) (at place, known, answered bool) {
	c, _, err := f.Claims.Get(ctx, id)
	if err == nil {
		return place{holder: c.Host, state: c.State, mine: f.Claims.Mine(c), claim: c}, true, false
	}
	var holder string
	if errors.Is(err, fleet.ErrNoClaim) {
		holder, err = f.Claims.FinishedOn(ctx, id)
	}
	if err != nil {
		writeFleetUnavailable(w, err)
		return place{}, false, true
	}
	if holder != "" {
		return place{holder: holder, state: fleet.Done, mine: holder == f.Conn.Host()}, true, false
	}
	work, err := f.Conn.Accepted(ctx, id)
	if errors.Is(err, fleet.ErrNotAccepted) || err == nil && work.Kind != kind {
		return place{}, false, false
	}
	if err != nil {
		writeFleetUnavailable(w, err)
		return place{}, false, true
	}
	return place{accepted: work}, true, false
}

// readFromFleet answers a read of work of kind this host does not hold:
// the host that took it answers, forwarded over the fleet with the long
// poll's wait; work no host took yet is queued (queued makes its view
// from the work as accepted), and a long poll of it waits for a host to
// take it first. It reports false when the fleet knows no such id either.
func (d *Service) readFromFleet(w http.ResponseWriter, r *http.Request, id, kind string, queued func(fleet.Work) any) bool {
	if d.answersAlone(r) {
		return false
	}
	ctx := r.Context()
	query := r.URL.Query()
	wait, _ := httpapi.ParseWait(query.Get("wait")) // the local handler refused a bad one already
	deadline := time.Now().Add(wait)
	at, known, answered := locate(ctx, d.fleet, w, id, kind)
	if answered || !known {
		return answered
	}
	holder, state, work := at.holder, at.state, at.accepted
	if holder == "" {
		// Accepted work is at its first version: a long poll for another
		// answers at once, as on one host.
		if v := query.Get("version"); wait > 0 && (v == "" || v == "1") {
			wctx, cancel := context.WithDeadline(ctx, deadline)
			var err error
			holder, state, err = d.fleet.Claims.AwaitHolder(wctx, id)
			cancel()
			if err != nil && ctx.Err() == nil && wctx.Err() == nil {
				writeFleetUnavailable(w, err)
				return true
			}
		}
		if holder == "" {
			httpapi.WriteJSON(w, http.StatusOK, queued(work))
			return true
		}
		// Taken while this read waited: the holder answers for the rest of
		// the wait.
		if wait > 0 {
			query.Set("wait", max(time.Until(deadline), time.Millisecond).String())
		}
	}
	if holder == d.fleet.Conn.Host() || holder == at.holder && at.mine {
		return d.takenHere(r.Context(), w, id, kind, state, queued)
	}
	status, body, err := d.forwardTo(ctx, holder, http.MethodGet, r.URL.Path, query.Encode(), nil, time.Until(deadline)+forwardMargin)
	if err != nil {
		writeHostDown(w, id, holder, state, err)
		return true
	}
	if status == http.StatusNotFound && d.takenHere(ctx, w, id, kind, state, queued) {
		return true
	}
	writeForwarded(w, status, body)
	return true
}

// takenHere answers for work its holder claimed a moment ago and has not
// stored yet: still queued. It reports false for work in any other state.
func (d *Service) takenHere(ctx context.Context, w http.ResponseWriter, id, kind string, state fleet.ClaimState, queued func(fleet.Work) any) bool {
	if state != fleet.Taken {
		return false
	}
	work, err := d.fleet.Conn.Accepted(ctx, id)
	if err != nil || work.Kind != kind {
		return false
	}
	httpapi.WriteJSON(w, http.StatusOK, queued(work))
	return true
}

// forwardTo passes a request to the host holding its work and returns
// that host's answer; timeout bounds the round trip and the holder's wait.
func (d *Service) forwardTo(ctx context.Context, holder, method, path, query string, body json.RawMessage, timeout time.Duration) (int, json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return d.fleet.Conn.Forward().Do(ctx, holder, method, path, query, body)
}

func writeFleetUnavailable(w http.ResponseWriter, err error) {
	httpapi.WriteError(w, &httpapi.Error{Status: http.StatusServiceUnavailable, Code: "fleet_unavailable", Message: err.Error()})
}

func writeHostDown(w http.ResponseWriter, id, holder string, state fleet.ClaimState, err error) {
	httpapi.WriteError(w, &httpapi.Error{Status: http.StatusServiceUnavailable, Code: "host_unavailable",
		Message: fmt.Sprintf("%s is held by host %s, which does not answer (%v); its claim says %s", id, holder, err, state)})
}

func writeForwarded(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

func pendingParts(n int) []store.Part {
	parts := make([]store.Part, n)
	for i := range parts {
		parts[i] = store.Part{Seq: i + 1, State: "pending"}
	}
	return parts
}

// forwardedReads is what this host answers for reads (and a
// confirmation's cancel or repeat) other hosts pass here: its own rows
// only. The asking host checked the caller's token.
func (d *Service) forwardedReads() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/messages/{id}", d.sending.Get)
	mux.HandleFunc("DELETE /v1/messages/{id}", d.sending.Delete)
	mux.HandleFunc("GET /v1/confirmations/{id}", d.confirm.Get)
	mux.HandleFunc("DELETE /v1/confirmations/{id}", d.confirm.Delete)
	mux.HandleFunc("POST /v1/confirmations", d.confirm.Post)
	return mux
}
