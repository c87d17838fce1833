package confirm

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// hostStore holds confirmations by id and records the ones created here.
type hostStore struct {
	Store
	held    map[string]*store.Confirmation
	created []string
	usage   payment.Usage
}

func (h *hostStore) GetConfirmation(_ context.Context, id string) (*store.Confirmation, error) {
	if c, ok := h.held[id]; ok {
		return c, nil
	}
	return nil, store.ErrNotFound
}

func (h *hostStore) CreateConfirmation(_ context.Context, n store.NewConfirmation) (*store.Confirmation, *store.Message, bool, error) {
	if c, ok := h.held[n.ID]; ok {
		return c, nil, true, nil
	}
	if n.Admit != nil {
		if err := n.Admit(h.usage); err != nil {
			return nil, nil, false, err
		}
	}
	h.created = append(h.created, n.ID)
	c := &store.Confirmation{ID: n.ID, State: payment.Queued, Version: 1, MessageID: "msg_" + n.ID}
	h.held[n.ID] = c
	return c, &store.Message{ID: c.MessageID}, false, nil
}

func (h *hostStore) CancelConfirmation(ctx context.Context, id string, _ *store.CancelNotice) (*store.Confirmation, *store.Message, *store.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err // as the store's writer does
	}
	c, ok := h.held[id]
	if !ok {
		return nil, nil, nil, store.ErrNotFound
	}
	c.State = payment.Cancelled
	return c, nil, nil, nil
}

func (h *hostStore) PaymentUsage(context.Context, string, time.Time, time.Time) (payment.Usage, error) {
	return h.usage, nil
}

// queue records what was queued and says nothing holds it.
type queue struct{ queued []string }

func (q *queue) Enqueue(m *store.Message)            { q.queued = append(q.queued, m.ID) }
func (q *queue) Remove(string) bool                  { return false }
func (q *queue) Poke()                               {}
func (q *queue) Holds(...string) map[string]api.Hold { return nil }

// fleetOf is the fleet as the tests set it: whether the host joined, who
// else holds an id, and what Submit answers; it records the ids submitted.
type fleetOf struct {
	joined    bool
	elsewhere map[string]bool // ids another host holds
	existed   bool
	err       error
	submitted []string
}

func (f *fleetOf) Joined() bool { return f.joined }

func (f *fleetOf) Submit(_ context.Context, n store.NewConfirmation) (bool, error) {
	if f.err == nil {
		f.submitted = append(f.submitted, n.ID)
	}
	return f.existed, f.err
}

func (f *fleetOf) answer(w http.ResponseWriter, id, by string) bool {
	if !f.elsewhere[id] {
		return false
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"id": id, "answered_by": by})
	return true
}

func (f *fleetOf) Read(w http.ResponseWriter, _ *http.Request, id string) bool {
	return f.answer(w, id, "read")
}
func (f *fleetOf) Cancel(w http.ResponseWriter, _ *http.Request, id string) bool {
	return f.answer(w, id, "cancel")
}
func (f *fleetOf) Repeat(w http.ResponseWriter, _ *http.Request, id string, body []byte) bool {
	if !bytes.Contains(body, []byte(`"id":"`+id+`"`)) {
		panic("a repeat without its request")
	}
	return f.answer(w, id, "repeat")
}

// A host in a fleet stores only what it holds or takes: new confirmations
// go to the fleet, after the same checks as on one host.
func TestInAFleetNewConfirmationsGoToTheFleet(t *testing.T) {
	limited := profiles{{PLMN: []string{"25020"}, Name: "Tele2", PaymentLimits: ussd.PaymentLimits{PerDay: ussd.AmountFromKopecks(200000)}}}
	cases := []struct {
		name          string
		fleet         fleetOf
		held          string // an id this host holds
		body          string
		usage         payment.Usage
		status        int
		submitted     bool
		created       bool
		answeredBy    string
		wantErrorCode string
	}{
		{name: "alone", fleet: fleetOf{}, status: 202, created: true},
		{name: "new", fleet: fleetOf{joined: true}, status: 202, submitted: true},
		{name: "a repeat the fleet knows", fleet: fleetOf{joined: true, existed: true}, status: 200, submitted: true},
		{name: "held here", fleet: fleetOf{joined: true}, held: "pay-1", status: 200},
		{name: "held by another host", fleet: fleetOf{joined: true, elsewhere: map[string]bool{"pay-1": true}}, status: 200, answeredBy: "repeat"},
		{name: "the cluster cannot take it", fleet: fleetOf{joined: true, err: &httpapi.Error{Status: 503, Code: "fleet_unavailable"}},
			status: 503, wantErrorCode: "fleet_unavailable"},
		{name: "a bad request", fleet: fleetOf{joined: true}, body: `{"id":"pay-1","phone":"12","txn":"T-1","amount":"1500.00","currency":"RUB"}`,
			status: 400, wantErrorCode: "invalid_field"},
		{name: "over a limit by this host's usage", fleet: fleetOf{joined: true}, usage: payment.Usage{Day: ussd.AmountFromKopecks(100000)},
			body:   `{"id":"pay-1","phone":"+79161234567","txn":"T-1","amount":"1500.00","currency":"RUB","customer_operator":"25020"}`,
			status: 422, wantErrorCode: "payment_limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &hostStore{held: map[string]*store.Confirmation{}, usage: tc.usage}
			if tc.held != "" {
				st.held[tc.held] = &store.Confirmation{ID: tc.held, State: payment.Sent, Version: 2}
			}
			q := &queue{}
			cfg := config.Default().Confirmations
			cfg.EnforceLimits = true
			s, err := New(st, nil, q, nil, Options{Config: cfg, MaxTTL: time.Hour, Operators: limited, Fleet: &tc.fleet})
			if err != nil {
				t.Fatal(err)
			}
			body := tc.body
			if body == "" {
				body = `{"id":"pay-1","phone":"+79161234567","txn":"T-1","amount":"1500.00","currency":"RUB"}`
			}
			r := httptest.NewRequest("POST", "/v1/confirmations", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			s.Post(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			var got struct {
				api.Confirmation
				AnsweredBy string `json:"answered_by"`
				Error      struct{ Code string }
			}
			json.Unmarshal(w.Body.Bytes(), &got)
			if got.AnsweredBy != tc.answeredBy || got.Error.Code != tc.wantErrorCode {
				t.Fatalf("answered by %q, error %q: %s", got.AnsweredBy, got.Error.Code, w.Body)
			}
			if submitted := len(tc.fleet.submitted) == 1; submitted != tc.submitted {
				t.Fatalf("submitted %v, want %v", tc.fleet.submitted, tc.submitted)
			}
			if created := len(st.created) == 1; created != tc.created || created != (len(q.queued) == 1) {
				t.Fatalf("created here %v, queued %v", st.created, q.queued)
			}
			if tc.name == "new" && (got.State != payment.Queued || got.Version != 1 || got.MessageID != "" || got.Txn != "T-1") {
				t.Fatalf("accepted as %+v", got.Confirmation)
			}
		})
	}
}

// The host that takes a confirmation stores it as a local POST would, once
// however often it comes, without the limits its accepting host checked.
func TestATakenConfirmationIsStoredAndQueuedOnce(t *testing.T) {
	st := &hostStore{held: map[string]*store.Confirmation{}}
	q := &queue{}
	s, err := New(st, nil, q, nil, Options{Fleet: &fleetOf{joined: true}})
	if err != nil {
		t.Fatal(err)
	}
	refuse := func(payment.Usage) error { return &httpapi.Error{Status: 422, Code: "payment_limit"} }
	for range 2 {
		if err := s.Take(t.Context(), store.NewConfirmation{ID: "pay-1", Admit: refuse}); err != nil {
			t.Fatal(err)
		}
	}
	if len(st.created) != 1 || len(q.queued) != 1 {
		t.Fatalf("created %v, queued %v", st.created, q.queued)
	}
}

// Reads and cancels of what this host does not hold ask the fleet; alone,
// they are 404.
func TestReadsAndCancelsOfWhatAnotherHostHoldsAskTheFleet(t *testing.T) {
	for _, joined := range []bool{true, false} {
		st := &hostStore{held: map[string]*store.Confirmation{}}
		f := &fleetOf{joined: joined, elsewhere: map[string]bool{"pay-2": true}}
		s, err := New(st, nil, &queue{}, nil, Options{Config: config.Default().Confirmations, Fleet: f})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ method, by string }{{"GET", "read"}, {"DELETE", "cancel"}} {
			r := httptest.NewRequest(tc.method, "/v1/confirmations/pay-2", nil)
			r.SetPathValue("id", "pay-2")
			w := httptest.NewRecorder()
			map[string]http.HandlerFunc{"GET": s.Get, "DELETE": s.Delete}[tc.method](w, r)
			var got struct {
				AnsweredBy string `json:"answered_by"`
			}
			json.Unmarshal(w.Body.Bytes(), &got)
			switch {
			case joined && (w.Code != 200 || got.AnsweredBy != tc.by):
				t.Fatalf("%s in a fleet: %d %s", tc.method, w.Code, w.Body)
			case !joined && w.Code != 404:
				t.Fatalf("%s alone: %d %s", tc.method, w.Code, w.Body)
			}
		}
	}
}

// takenToCancel is a fleet in which the confirmation asked to be cancelled
// was taken by no host yet: this host takes it, stores it without sending
// its SMS, and leaves the cancel to the handler.
type takenToCancel struct {
	fleetOf
	st *hostStore
}

func (f *takenToCancel) Cancel(_ http.ResponseWriter, r *http.Request, id string) bool {
	f.st.CreateConfirmation(r.Context(), store.NewConfirmation{ID: id})
	return false
}

// A cancel that took a confirmation from the fleet finishes even when its
// client goes away meanwhile: left half done, the confirmation stayed
// queued and claimed by this host, its SMS in no queue until a restart
// sent it.
func TestACancelThatTookAConfirmationFinishesWithoutItsClient(t *testing.T) {
	st := &hostStore{held: map[string]*store.Confirmation{}}
	f := &takenToCancel{fleetOf: fleetOf{joined: true}, st: st}
	s, err := New(st, nil, &queue{}, nil, Options{Config: config.Default().Confirmations, Fleet: f})
	if err != nil {
		t.Fatal(err)
	}
	ctx, gone := context.WithCancel(t.Context())
	gone()
	r := httptest.NewRequestWithContext(ctx, "DELETE", "/v1/confirmations/pay-3", nil)
	r.SetPathValue("id", "pay-3")
	s.Delete(httptest.NewRecorder(), r)
	if c := st.held["pay-3"]; c == nil || c.State != payment.Cancelled {
		t.Fatalf("the confirmation after its cancel: %+v, want cancelled", c)
	}
}
