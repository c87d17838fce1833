package confirm

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Fleet hands confirmations to the hosts of a fleet (docs/fleet.md): the
// whole confirmation, its SMS and the reply matching, is one piece of work
// that stays on the host that takes it, since the reply comes back to the
// SIM that sent the SMS. The daemon fills it; Joined is false on a host
// that works alone.
type Fleet interface {
	Joined() bool
	// Submit makes a validated confirmation durable in the fleet; the host
	// that takes it stores it through Take. existed: the fleet holds its
	// id with the same request already. Errors are the API's (409 for the
	// id with another request, 503 when the fleet cannot take it).
	Submit(ctx context.Context, n store.NewConfirmation) (existed bool, err error)
	// Read answers a GET of a confirmation this host does not hold (its
	// wait and version in r's query): the holder's own answer, or the
	// confirmation as accepted while no host took it yet. It reports
	// false, writing nothing, when the fleet knows no such id either.
	Read(w http.ResponseWriter, r *http.Request, id string) bool
	// Cancel passes a DELETE of a confirmation this host does not hold to
	// its holder and reports true. One no host took yet it stores here
	// instead, claimed, its SMS not queued, and reports false: the caller
	// cancels it as its own. False, writing nothing, also when the fleet
	// knows no such id.
	Cancel(w http.ResponseWriter, r *http.Request, id string) bool
	// Repeat passes a POST (body: the request) of an id another host
	// holds or finished to that host, which answers as one host does, and
	// reports true; false, writing nothing, when no other host has it.
	Repeat(w http.ResponseWriter, r *http.Request, id string, body []byte) bool
}

func (s *Confirmations) inFleet() bool { return s.fleet != nil && s.fleet.Joined() }

// postToFleet accepts a validated confirmation into the fleet: 202 once the
// cluster stored it, with the confirmation as accepted. An id another host
// holds is that host's to answer.
func (s *Confirmations) postToFleet(w http.ResponseWriter, r *http.Request, req api.NewConfirmation, n store.NewConfirmation) {
	ctx := r.Context()
	body, err := json.Marshal(req)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if s.fleet.Repeat(w, r, n.ID, body) {
		return
	}
	// Limits are checked here, against the confirmations this host holds:
	// the host that takes it cannot refuse what was answered 202.
	if n.Admit != nil {
		u, err := s.store.PaymentUsage(ctx, n.Phone, n.DayStart, n.MonthStart)
		if err != nil {
			httpapi.WriteError(w, err)
			return
		}
		if err := n.Admit(u); err != nil {
			httpapi.WriteError(w, err)
			return
		}
	}
	existed, err := s.fleet.Submit(ctx, n)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if existed {
		// As on one host: the confirmation as it stands, wherever it is.
		get, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/v1/confirmations/"+url.PathEscape(n.ID), nil)
		if s.fleet.Read(w, get, n.ID) {
			return
		}
		now := s.now()
		httpapi.WriteJSON(w, http.StatusOK, Queued(n, now, now.Add(n.TTL)))
		return
	}
	now := s.now()
	w.Header().Set("Location", "/v1/confirmations/"+n.ID)
	httpapi.WriteJSON(w, http.StatusAccepted, Queued(n, now, now.Add(n.TTL)))
}

// Queued is a confirmation as the fleet accepted it, before any host
// stored it: no SMS made yet, so no message id.
func Queued(n store.NewConfirmation, created, expires time.Time) api.Confirmation {
	return store.ConfirmationView(&store.Confirmation{ID: n.ID, Phone: n.Phone, Txn: n.Txn, Amount: n.Amount, Currency: n.Currency,
		CustomerOperator: n.CustomerOperator, Text: n.Text, CancelWords: n.CancelWords, State: payment.Queued, Version: 1,
		Parts: n.Parts, CreatedAt: created, ExpiresAt: expires, UpdatedAt: created})
}

// Take stores a confirmation this host took from the fleet, through the
// path a local POST takes, and queues its SMS; the same id twice is one
// confirmation. Its limits were checked where it was accepted.
func (s *Confirmations) Take(ctx context.Context, n store.NewConfirmation) error {
	n.Admit = nil
	_, m, existed, err := s.store.CreateConfirmation(ctx, n)
	if err != nil {
		return err
	}
	if !existed {
		s.queue.Enqueue(m)
	}
	return nil
}
