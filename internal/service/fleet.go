package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/fleet"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// The daemon's side of the fleet (docs/fleet-plan.md): what the puller may
// take, how taken work is stored, which log the fleet's event stream
// copies, and the claim each send checks first.

// fleetMessage is a message on its way through the fleet: what the
// accepting host validated, in the form the taking host stores. Its
// expiry is absolute, so time spent in the fleet counts against its TTL.
type fleetMessage struct {
	To          string    `json:"to"`
	Text        string    `json:"text"`
	Encoding    string    `json:"encoding"`
	Parts       int       `json:"parts"`
	Reference   string    `json:"reference,omitempty"`
	PinModem    string    `json:"pin_modem,omitempty"`
	PinOperator string    `json:"pin_operator,omitempty"`
	Report      bool      `json:"report,omitempty"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// messageWork wraps an accepted message for the fleet's work stream.
func messageWork(id, host string, n store.NewMessage, now time.Time) fleet.Work {
	req, _ := json.Marshal(fleetMessage{To: n.To, Text: n.Text, Encoding: n.Encoding, Parts: n.Parts, Reference: n.Reference,
		PinModem: n.PinModem, PinOperator: n.PinOperator, Report: n.Report, ExpiresAt: now.Add(n.TTL)})
	return fleet.Work{Kind: fleet.KindMessage, ID: id, Route: fleet.Route{Modem: n.PinModem, Operator: n.PinOperator},
		Request: req, AcceptedBy: host, AcceptedAt: now}
}

// fleetLocal is this host as the fleet sees it.
type fleetLocal struct{ d *Service }

func (l fleetLocal) RoomChanged() <-chan struct{} { return l.d.sched.RoomChanged() }

// Room says in the fleet's words what the scheduler's lanes can start now.
func (l fleetLocal) Room() fleet.Room {
	r := l.d.sched.Room()
	out := fleet.Room{Free: r.Free}
	for _, c := range r.Routes {
		out.Routes = append(out.Routes, fleet.Capacity{Route: fleet.Route{SIM: c.Route.SIM, Modem: c.Route.Modem, Operator: c.Route.Operator}, Free: c.Free})
	}
	return out
}
func (l fleetLocal) State(ctx context.Context) json.RawMessage { return fleetView{l.d}.state(ctx) }

// TakeAll stores work this host claimed and queues it; the same id twice
// is one message. The messages of a batch are stored in one transaction.
func (l fleetLocal) TakeAll(ctx context.Context, ws []fleet.Work) []error {
	return l.store(ctx, ws, true)
}

// store stores work this host claimed, and queues the messages when
// queue (a message taken to be cancelled is not).
func (l fleetLocal) store(ctx context.Context, ws []fleet.Work, queue bool) []error {
	errs := make([]error, len(ws))
	var batch []store.MessageAs
	var at []int // of ws, for each of batch
	for i, w := range ws {
		switch w.Kind {
		case fleet.KindMessage:
		case fleet.KindConfirmation:
			errs[i] = l.takeConfirmation(ctx, w)
			continue
		default:
			errs[i] = fmt.Errorf("fleet work of kind %q is not handled by this host", w.Kind)
			continue
		}
		var fm fleetMessage
		if err := json.Unmarshal(w.Request, &fm); err != nil {
			errs[i] = fmt.Errorf("fleet message %s: %w", w.ID, err)
			continue
		}
		// Time spent in the fleet counts: a message whose time ran out
		// there is stored with the least TTL and expires here at once.
		ttl := max(fm.ExpiresAt.Sub(l.d.now()), time.Millisecond)
		batch = append(batch, store.MessageAs{ID: w.ID, NewMessage: store.NewMessage{To: fm.To, Text: fm.Text, Encoding: fm.Encoding, Parts: fm.Parts,
			Reference: fm.Reference, PinModem: fm.PinModem, PinOperator: fm.PinOperator, Report: fm.Report, TTL: ttl}})
		at = append(at, i)
	}
	if len(batch) == 0 {
		return errs
	}
	ms, existed, err := l.d.store.Messages.AcceptAllAs(ctx, batch)
	for j, i := range at {
		switch {
		case err != nil:
			errs[i] = err
		case queue && !existed[j]:
			l.d.sched.Enqueue(ms[j])
		}
	}
	return errs
}

// fleetCursor keeps a fleet follower's place in the store.
type fleetCursor struct {
	s    *store.Store
	name string
}

func (c fleetCursor) Load(ctx context.Context) (int64, error) {
	return c.s.Deliveries.FollowerCursor(ctx, c.name)
}
func (c fleetCursor) Save(ctx context.Context, id int64) error {
	return c.s.Deliveries.SaveFollowerCursor(ctx, c.name, id)
}

// fleetLog is the event log as the fleet's publisher reads it.
type fleetLog struct{ s *store.Store }

func (l fleetLog) Changed() (int64, <-chan struct{}) { return l.s.LogEnd().Changed() }

func (l fleetLog) EventsAfter(ctx context.Context, after int64, limit int) ([]fleet.LoggedEvent, error) {
	events, err := l.s.Events.Events(ctx, store.EventFilter{After: after, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]fleet.LoggedEvent, 0, len(events))
	for _, e := range events {
		body, err := json.Marshal(store.EventView(&e))
		if err != nil {
			return nil, err
		}
		out = append(out, fleet.LoggedEvent{ID: e.ID, Type: e.Type, Body: body})
	}
	return out, nil
}

// joinFleet joins the fleet when the configuration asks for it. A name
// another live host holds stops the start.
func (d *Service) joinFleet(ctx context.Context) (*fleet.Node, error) {
	if !d.cfg.Fleet.Enabled() {
		return nil, nil
	}
	log := d.log.With("component", "fleet")
	return fleet.Join(ctx, d.cfg.Fleet, fleet.Options{
		DataDir:         d.cfg.DataDir,
		Logger:          log,
		Registerer:      d.metrics.reg,
		Local:           fleetLocal{d},
		Events:          fleetLog{d.store},
		Cursor:          fleetCursor{d.store, fleetPublisher},
		Reads:           d.forwardedReads(),
		ModemsSharingID: (&modemIDWarnings{modems: d.Modems, log: log}).count,
	})
}

// fleetSending is the fleet as sending meets it: new messages go through
// it, and each message's claim is checked before its first part.
type fleetSending struct{ d *Service }

func (f fleetSending) Submit(w http.ResponseWriter, r *http.Request, n store.NewMessage) {
	f.d.postToFleet(w, r, n)
}
func (f fleetSending) ClaimSending(ctx context.Context, id string) (send, wait bool) {
	return f.d.fleetClaimSending(ctx, id)
}
func (f fleetSending) Answer(w http.ResponseWriter, r *http.Request, id string) bool {
	return f.d.answerFromFleet(w, r, id)
}
func (f fleetSending) MayEnd(ctx context.Context, id string) bool { return f.d.fleetMayEnd(ctx, id) }

// postToFleet makes an accepted message durable in the fleet and answers
// only after the cluster stored it (docs/fleet-plan.md §2): 503 names the
// cause when it could not, so nothing is accepted that is not durable.
func (d *Service) postToFleet(w http.ResponseWriter, r *http.Request, n store.NewMessage) {
	now := d.now()
	work := messageWork(store.NewID("msg_", now), d.fleet.Conn.Host(), n, now)
	got, existed, err := d.fleet.Conn.Submit(r.Context(), work, n.IdempotencyKey, n.IdempotencyFingerprint)
	switch {
	case errors.Is(err, fleet.ErrKeyReused):
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusConflict, Code: "conflict", Field: "Idempotency-Key", Message: err.Error()})
		return
	case err != nil:
		httpapi.WriteError(w, fleetRefused(err))
		return
	}
	var fm fleetMessage
	json.Unmarshal(got.Request, &fm)
	status := http.StatusAccepted
	if existed {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/v1/messages/"+got.ID)
	httpapi.WriteJSON(w, status, map[string]any{"id": got.ID, "state": store.Queued, "parts": fm.Parts, "expires_at": fm.ExpiresAt})
}

// fleetClaimSending moves the fleet's claim on a message to sending, the
// last step before a part may reach a modem, and reports whether the
// message may go out. When not, wait says it stays queued here: this host
// is cut off from the cluster, and nothing goes out whose claim cannot say
// sending (docs/fleet-plan.md §3). A message the fleet released while this
// host was away is dropped unsent instead: another host sends it.
func (d *Service) fleetClaimSending(ctx context.Context, id string) (send, wait bool) {
	// A message this host took from the fleet has its own claim, which
	// the claims remember from the take: the message need not be read to
	// learn that (a read per send was 5 % of a host's CPU under load).
	// Others (after a restart, a confirmation's SMS) are read.
	claim, ok, err := id, true, error(nil)
	if !d.fleet.Claims.Holds(id) {
		claim, ok, err = d.claimOf(ctx, id)
	}
	switch {
	case err != nil:
		d.log.Warn("fleet: reading a message before its send; it waits", "message", id, "err", err)
		return false, true
	case !ok:
		return true, false
	case claim != id:
		return d.fleetClaimConfirmation(ctx, id, claim)
	}
	err = d.startClaim(ctx, fleet.KindMessage, id)
	switch {
	case err == nil:
		return true, false
	case errors.Is(err, fleet.ErrReleased), errors.Is(err, fleet.ErrClaimedElsewhere), errors.Is(err, fleet.ErrFinished):
		d.log.Warn("fleet: this host's copy of a message belongs to another host now; dropping it unsent", "message", id, "err", err)
		if derr := d.store.Messages.DropQueued(ctx, id); derr != nil {
			// Left queued, the copy would answer this host's reads as
			// queued while another host sends it: it waits, and the next
			// try drops it once the store writes again.
			d.log.Error("fleet: dropping a message another host holds; trying again later", "message", id, "err", derr)
			return false, true
		}
		return false, false
	default:
		d.log.Warn("fleet: cannot mark the claim sending; the message waits", "message", id, "err", err)
		return false, true
	}
}

// startClaim moves this host's claim on id, work of kind (a message or a
// confirmation), to sending. Work no claim names is claimed now, as
// sending: work queued here before this host joined the fleet (dropped as
// another host's, such a message used to be deleted unsent), or a copy
// whose claim went. If another host claimed it first, or it finished
// somewhere, this copy is dropped.
func (d *Service) startClaim(ctx context.Context, kind, id string) error {
	err := d.fleet.Claims.StartSending(ctx, id)
	if !errors.Is(err, fleet.ErrNoClaim) {
		return err
	}
	return d.fleet.Claims.Adopt(ctx, fleet.Work{Kind: kind, ID: id})
}

// doneMessageEvents end a message's sending, and its fleet claim with it:
// what follows (a delivery report) changes nothing another host could
// do, and a host that dies after them strands nothing.
var doneMessageEvents = store.EventTypes{"message.sent", "message.unknown", "message.delivered", "message.undelivered", "message.failed", "message.expired", "message.cancelled"}

var doneEvents = slices.Concat(doneMessageEvents, doneConfirmationEvents)

// finishCoalesce is how long the claim finisher lets the log grow after
// it wakes.
const finishCoalesce = 50 * time.Millisecond

// finishSaveEvery is how often the claim finisher saves its cursor while
// claims are finished: each save is a commit of its own, and under load
// one per round was a good share of a host's commits. A claim finished
// again after a crash is harmless: it is gone (ErrNoClaim).
const finishSaveEvery = time.Second

// runFleetFinisher follows the event log and finishes the fleet's claim on
// each message whose sending ended here, and on each confirmation decided here, so that the fleet lists
// only work in flight as held by this host. Its cursor is durable: a
// restart goes on where it stopped, or up to finishSaveEvery before.
func (d *Service) runFleetFinisher(ctx context.Context) {
	cur := fleetCursor{d.store, fleetFinisher}
	after, err := cur.Load(ctx)
	for err != nil && ctx.Err() == nil {
		d.log.Warn("fleet: loading the claim finisher's cursor", "err", err)
		sleepCtx(ctx, time.Second)
		after, err = cur.Load(ctx)
	}
	saver := fleet.NewCursorSaver(cur, after, finishSaveEvery, d.log, "claim finisher's")
	defer saver.Close(ctx)
	for ctx.Err() == nil {
		last, grew := d.store.LogEnd().Changed()
		if after >= last {
			due, stop := saver.Due()
			select {
			case <-ctx.Done():
			case <-due:
				saver.Save(ctx)
			case <-grew:
				// Under load the log grows by a commit every few
				// milliseconds: a short wait finishes the claims of many
				// commits at once, and a claim stays a little longer.
				sleepCtx(ctx, finishCoalesce)
			}
			stop()
			continue
		}
		events, err := d.store.Events.Events(ctx, store.EventFilter{After: after, Upto: last, Types: doneEvents, Limit: 256})
		if err == nil {
			ids := make([]string, len(events))
			for i, e := range events {
				ids[i] = e.Object.ID
			}
			for _, ferr := range d.fleet.Claims.FinishAll(ctx, ids) {
				// No claim: a confirmation's SMS, whose claim is its
				// confirmation's. Another host's: a copy this host dropped
				// unsent.
				if ferr != nil && !errors.Is(ferr, fleet.ErrNoClaim) && !errors.Is(ferr, fleet.ErrClaimedElsewhere) {
					err = ferr
					break
				}
			}
		}
		if err != nil {
			d.log.Warn("fleet: finishing claims", "err", err)
			sleepCtx(ctx, time.Second)
			continue
		}
		// Nothing of interest up to last, or all of it finished.
		after = last
		if len(events) == 256 {
			after = events[len(events)-1].ID
		}
		saver.Moved(ctx, after)
	}
}

func (d *Service) fleetRoutes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/v1/hosts", Scope: config.ScopeRead, Handler: d.listHosts},
		{Method: "POST", Pattern: "/v1/hosts/{host}/release", Scope: config.ScopeAdmin, Handler: d.releaseHost},
	}
}

var errNotInFleet = &httpapi.Error{Status: http.StatusNotFound, Code: "not_in_fleet", Message: "this host works alone: its configuration has no fleet.servers"}

func (d *Service) listHosts(w http.ResponseWriter, r *http.Request) {
	if d.fleet == nil {
		httpapi.WriteError(w, errNotInFleet)
		return
	}
	hosts, err := fleetView{d}.hosts(r.Context())
	if err != nil {
		httpapi.WriteError(w, fleetUnavailable(err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, api.HostList{Hosts: hosts})
}

func (d *Service) releaseHost(w http.ResponseWriter, r *http.Request) {
	if d.fleet == nil {
		httpapi.WriteError(w, errNotInFleet)
		return
	}
	host := r.PathValue("host")
	if !config.ValidFleetHost(host) {
		// No host can hold such a name, and the cluster would refuse it
		// as a key: a 503 would send the caller looking at the cluster.
		httpapi.WriteError(w, httpapi.BadField("host", "must be 1 to 64 letters, digits, - or _, as fleet.host is; got %q", host))
		return
	}
	released, err := d.fleet.Conn.ReleaseHost(r.Context(), d.fleet.Claims, host)
	switch {
	case errors.Is(err, fleet.ErrHostAlive):
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusConflict, Code: "host_alive", Field: "host", Message: err.Error()})
	case err != nil:
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusServiceUnavailable, Code: "fleet_unavailable", Message: err.Error()})
	default:
		if released == nil {
			released = []string{}
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"released": released})
	}
}

// sleepCtx waits for d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
