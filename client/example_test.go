package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/client"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// A payment core asks the customer to confirm a payment by SMS and waits,
// with long polls, until the customer answered (or the confirmation expired
// or failed).
func Example_confirmPayment() {
	daemon := newConfirmingDaemon() // stands in for `gsmbridge serve`
	defer daemon.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.New(daemon.URL, client.WithToken("payment-core-token"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	conf, err := c.Confirmations.Create(ctx, api.NewConfirmation{ID: "pay-1042", Phone: "+79161234567", Txn: "1042",
		Amount: "1500.00", Currency: "RUB"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("asked:", conf.ID, conf.State)
	conf, err = c.Confirmations.Await(ctx, conf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("decided:", conf.State, "after", conf.Version, "versions")

	// Asking again with the same payment id is safe: the same confirmation.
	again, err := c.Confirmations.Create(ctx, api.NewConfirmation{ID: "pay-1042", Phone: "+79161234567", Txn: "1042",
		Amount: "1500.00", Currency: "RUB"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("again:", again.State)

	// An unknown id is an *client.Error with the daemon's code.
	_, err = c.Confirmations.Get(ctx, "pay-0", 0, 0)
	if e, ok := err.(*client.Error); ok {
		fmt.Println("unknown:", e.Status, e.Code)
	}
	// Output:
	// asked: pay-1042 queued
	// decided: confirmed after 3 versions
	// again: confirmed
	// unknown: 404 not_found
}

// confirmingDaemon answers the confirmation endpoints as the daemon does,
// with a customer who confirms every payment once its SMS went out. Its
// long polls hold until the version changes, as the daemon's do.
type confirmingDaemon struct {
	*httptest.Server
	mu      sync.Mutex
	changed chan struct{} // closed and replaced at every change
	confs   map[string]*api.Confirmation
}

func newConfirmingDaemon() *confirmingDaemon {
	d := &confirmingDaemon{changed: make(chan struct{}), confs: map[string]*api.Confirmation{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/confirmations", d.post)
	mux.HandleFunc("GET /v1/confirmations/{id}", d.get)
	d.Server = httptest.NewServer(mux)
	return d
}

func (d *confirmingDaemon) post(w http.ResponseWriter, r *http.Request) {
	var n api.NewConfirmation
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil || r.Header.Get("Authorization") == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.confs[n.ID]; ok {
		answer(w, http.StatusOK, c)
		return
	}
	amount, _ := ussd.ParseAmount(n.Amount)
	now := time.Now()
	c := &api.Confirmation{ID: n.ID, Phone: n.Phone, Txn: n.Txn, Amount: amount, Currency: n.Currency,
		State: api.ConfirmationQueued, Version: 1, MessageID: "msg_1", Parts: 1, CreatedAt: now,
		ExpiresAt: now.Add(10 * time.Minute), UpdatedAt: now}
	d.confs[n.ID] = c
	answer(w, http.StatusAccepted, c)
	// The SMS goes out, then the customer answers.
	time.AfterFunc(20*time.Millisecond, func() { d.move(n.ID, api.ConfirmationSent) })
	time.AfterFunc(60*time.Millisecond, func() { d.move(n.ID, api.ConfirmationConfirmed) })
}

func (d *confirmingDaemon) move(id string, to api.ConfirmationState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.confs[id]
	c.State, c.Version, c.UpdatedAt = to, c.Version+1, time.Now()
	close(d.changed)
	d.changed = make(chan struct{})
}

func (d *confirmingDaemon) get(w http.ResponseWriter, r *http.Request) {
	wait, _ := time.ParseDuration(r.URL.Query().Get("wait"))
	known, _ := strconv.Atoi(r.URL.Query().Get("version"))
	deadline := time.After(wait)
	for {
		d.mu.Lock()
		c, ok := d.confs[r.PathValue("id")]
		if !ok {
			d.mu.Unlock()
			answer(w, http.StatusNotFound, api.ErrorBody{Error: api.Error{Code: "not_found", Message: "confirmation not found"}})
			return
		}
		view, changed := *c, d.changed
		d.mu.Unlock()
		if wait == 0 || view.Version != known || view.State.Final() {
			answer(w, http.StatusOK, view)
			return
		}
		select {
		case <-changed:
		case <-deadline:
			wait = 0
		case <-r.Context().Done():
			return
		}
	}
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
