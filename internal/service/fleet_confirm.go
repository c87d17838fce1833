package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/confirm"
	"github.com/gsmbridge/gsmbridge/internal/fleet"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// Confirmations through the fleet (docs/fleet-plan.md §2): a confirmation
// is one piece of work, its SMS and its reply matching together, since the
// customer's reply comes back to the SIM that sent the SMS.

// fleetConfirmation is a confirmation on its way through the fleet, as the
// accepting host validated and normalised it. Its expiry is absolute, so
// time spent in the fleet counts against its ttl; its fingerprint is the
// request's, so a repeat of the id compares the same on every host.
type fleetConfirmation struct {
	ID               string      `json:"id"`
	Phone            string      `json:"phone"`
	Txn              string      `json:"txn"`
	Amount           ussd.Amount `json:"amount"`
	Currency         string      `json:"currency"`
	CustomerOperator string      `json:"customer_operator,omitempty"`
	Text             string      `json:"text"`
	Encoding         string      `json:"encoding"`
	Parts            int         `json:"parts"`
	CancelWords      []string    `json:"cancel_words"`
	Fingerprint      string      `json:"fingerprint"`
	ExpiresAt        time.Time   `json:"expires_at"`
}

func confirmationWork(host string, n store.NewConfirmation, now time.Time) fleet.Work {
	req, _ := json.Marshal(fleetConfirmation{ID: n.ID, Phone: n.Phone, Txn: n.Txn, Amount: n.Amount, Currency: n.Currency,
		CustomerOperator: n.CustomerOperator, Text: n.Text, Encoding: n.Encoding, Parts: n.Parts, CancelWords: n.CancelWords,
		Fingerprint: n.Fingerprint, ExpiresAt: now.Add(n.TTL)})
	// Any SIM may send it: customer_operator is the customer's network,
	// not a pin.
	return fleet.Work{Kind: fleet.KindConfirmation, ID: n.ID, Request: req, AcceptedBy: host, AcceptedAt: now}
}

// newConfirmation is the request a confirmation's work carries, with the
// ttl left at now.
func (fc fleetConfirmation) newConfirmation(now time.Time) store.NewConfirmation {
	return store.NewConfirmation{ID: fc.ID, Phone: fc.Phone, Txn: fc.Txn, Amount: fc.Amount, Currency: fc.Currency,
		CustomerOperator: fc.CustomerOperator, Text: fc.Text, Encoding: fc.Encoding, Parts: fc.Parts,
		CancelWords: fc.CancelWords, Fingerprint: fc.Fingerprint, TTL: max(fc.ExpiresAt.Sub(now), time.Millisecond)}
}

// fleetConfirm is the fleet as internal/confirm uses it.
type fleetConfirm struct{ d *Service }

var _ confirm.Fleet = fleetConfirm{}

func (f fleetConfirm) Joined() bool { return f.d.fleet != nil }

// Submit makes a confirmation durable in the fleet, its id the
// Idempotency-Key: the first request under an id wins on every host.
func (f fleetConfirm) Submit(ctx context.Context, n store.NewConfirmation) (bool, error) {
	work := confirmationWork(f.d.fleet.Conn.Host(), n, f.d.now())
	_, existed, err := f.d.fleet.Conn.Submit(ctx, work, n.ID, n.Fingerprint)
	switch {
	case errors.Is(err, fleet.ErrKeyReused):
		return false, fmt.Errorf("%w: confirmation %s exists with a different request", store.ErrConflict, n.ID)
	case err != nil:
		return false, fleetRefused(err)
	}
	return existed, nil
}

func (f fleetConfirm) Read(w http.ResponseWriter, r *http.Request, id string) bool {
	return f.d.readFromFleet(w, r, id, fleet.KindConfirmation, func(work fleet.Work) any {
		var fc fleetConfirmation
		json.Unmarshal(work.Request, &fc)
		return confirm.Queued(fc.newConfirmation(work.AcceptedAt), work.AcceptedAt, fc.ExpiresAt)
	})
}

// takeConfirmation stores a confirmation this host claimed, as a local
// POST would.
func (l fleetLocal) takeConfirmation(ctx context.Context, w fleet.Work) error {
	var fc fleetConfirmation
	if err := json.Unmarshal(w.Request, &fc); err != nil || fc.ID != w.ID {
		return fmt.Errorf("fleet confirmation %s: %v", w.ID, err)
	}
	err := l.d.confirm.Take(ctx, fc.newConfirmation(l.d.now()))
	if !errors.Is(err, store.ErrConflict) {
		return err
	}
	// This host holds another confirmation under the id, from a request
	// older than the fleet's memory of ids: that one stands, and the claim
	// says this host answers for the id. Long decided, it ends no more,
	// and nothing would finish the claim: it is finished now, or it
	// would count as work this host holds for good.
	l.d.log.Error("fleet: a confirmation id came back with another request after the idempotency window; the first stands", "confirmation", w.ID)
	if c, err := l.d.store.Confirmations.GetConfirmation(ctx, w.ID); err == nil && c.State.Final() {
		if err := l.d.fleet.Claims.Finish(ctx, w.ID); err != nil {
			l.d.log.Warn("fleet: finishing the claim of a decided confirmation", "confirmation", w.ID, "err", err)
		}
	}
	return nil
}

// claimOf names the fleet claim a message's send is checked against: its
// own, or its confirmation's for a confirmation's SMS. A cancel notice has
// none: it goes out from the host that held its confirmation.
func (d *Service) claimOf(ctx context.Context, id string) (claim string, ok bool, err error) {
	m, err := d.store.Messages.GetMessage(ctx, id)
	if err != nil {
		return "", false, err
	}
	conf, notice, isConf := store.ConfirmationOf(m)
	switch {
	case !isConf:
		return id, true, nil
	case notice:
		return "", false, nil
	}
	return conf, true, nil
}

// doneConfirmationEvents end a confirmation, and its fleet claim with it.
var doneConfirmationEvents = store.EventTypes{"confirmation.confirmed", "confirmation.cancelled", "confirmation.expired", "confirmation.failed"}

// fleetClaimConfirmation moves a confirmation's claim to sending before
// the first part of its SMS, as fleetClaimSending does for a message; one
// the fleet never knew is claimed then. A confirmation the fleet handed
// to another host while this one was away is not sent from here: its copy goes, unsent and without an event, so
// that reads of it on this host ask its new holder.
func (d *Service) fleetClaimConfirmation(ctx context.Context, msgID, confID string) (send, wait bool) {
	err := d.startClaim(ctx, fleet.KindConfirmation, confID)
	switch {
	case err == nil:
		return true, false
	case errors.Is(err, fleet.ErrReleased), errors.Is(err, fleet.ErrClaimedElsewhere), errors.Is(err, fleet.ErrFinished):
		d.log.Warn("fleet: this host's copy of a confirmation belongs to another host now; dropping it unsent",
			"confirmation", confID, "message", msgID, "err", err)
		if derr := d.store.Confirmations.DropQueued(ctx, confID); derr != nil {
			d.log.Error("fleet: dropping a confirmation another host holds; trying again later", "confirmation", confID, "err", derr)
			return false, true
		}
		return false, false
	default:
		d.log.Warn("fleet: cannot mark the confirmation's claim sending; its SMS waits", "confirmation", confID, "message", msgID, "err", err)
		return false, true
	}
}

// Cancel passes a DELETE to the confirmation's holder; one no host took
// yet is taken here, stored without its SMS being queued, and cancelled
// by the caller.
func (f fleetConfirm) Cancel(w http.ResponseWriter, r *http.Request, id string) bool {
	return f.d.cancelThroughFleet(w, r, id, fleet.KindConfirmation, func(ctx context.Context, work fleet.Work) error {
		var fc fleetConfirmation
		json.Unmarshal(work.Request, &fc)
		_, _, _, err := f.d.store.Confirmations.CreateConfirmation(ctx, fc.newConfirmation(f.d.now()))
		if errors.Is(err, store.ErrConflict) {
			return nil
		}
		return err
	})
}

// Repeat passes a POST of a confirmation id another host holds, or
// finished, to that host, which compares it with the request it stored:
// the fleet's memory of ids (the intake's 24 h) is shorter than a
// host's, and a repeat later must not become a second confirmation.
func (f fleetConfirm) Repeat(w http.ResponseWriter, r *http.Request, id string, body []byte) bool {
	d := f.d
	if d.answersAlone(r) {
		return false
	}
	holder, state, err := d.fleet.Claims.Holder(r.Context(), id)
	switch {
	case err != nil:
		writeFleetUnavailable(w, err)
		return true
	case holder == "" || holder == d.fleet.Conn.Host():
		return false
	}
	status, answer, err := d.forwardTo(r.Context(), holder, http.MethodPost, "/v1/confirmations", "", body, forwardMargin)
	if err != nil {
		writeHostDown(w, id, holder, state, err)
		return true
	}
	writeForwarded(w, status, answer)
	return true
}
