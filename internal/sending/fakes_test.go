package sending

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// fakeMessages keeps messages in a map. Only what the tests reach is
// implemented; the embedded interface panics on the rest.
type fakeMessages struct {
	Messages
	mu   sync.Mutex
	byID map[string]*store.Message
	n    int
}

func (f *fakeMessages) Accept(_ context.Context, n store.NewMessage) (*store.Message, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	m := &store.Message{ID: "msg_" + strings.Repeat("x", f.n), To: n.To, Text: n.Text, Encoding: n.Encoding, Parts: n.Parts,
		Reference: n.Reference, PinModem: n.PinModem, PinOperator: n.PinOperator, Report: n.Report, State: store.Queued,
		CreatedAt: now, ExpiresAt: now.Add(n.TTL), UpdatedAt: now}
	f.byID[m.ID] = m
	return m, false, nil
}

func (f *fakeMessages) GetMessage(ctx context.Context, id string) (*store.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // as the store's reads do
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.byID[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	c := *m
	return &c, nil
}

func (f *fakeMessages) Cancel(_ context.Context, id string) (*store.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.byID[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	if m.State != store.Queued {
		return m, store.ErrConflict
	}
	m.State = store.Cancelled
	return m, nil
}

// fakeSIMs knows one SIM at most, which has sent nothing.
type fakeSIMs struct{ sim *store.SIM }

func (f fakeSIMs) SIMs(context.Context) ([]store.SIM, error) {
	if f.sim == nil {
		return nil, nil
	}
	return []store.SIM{*f.sim}, nil
}
func (fakeSIMs) SentSince(context.Context, string, time.Time) ([]time.Time, error) { return nil, nil }
func (fakeSIMs) SendOutcome(context.Context, string, string, bool, int) (store.SIM, bool, error) {
	return store.SIM{}, false, nil
}
func (f fakeSIMs) ResumeSIM(_ context.Context, iccid, _ string) (store.SIM, error) {
	if f.sim == nil || f.sim.ICCID != iccid {
		return store.SIM{}, store.ErrNotFound
	}
	f.sim.State = store.SIMActive
	return *f.sim, nil
}

// fakeModems are modems with those ids, all holding the SIM iccid; they
// remember the SIM state they are told to show.
type fakeModems struct {
	ids   []string
	iccid string

	mu       sync.Mutex
	simState map[string]string
}

func (f *fakeModems) Has(id string) bool {
	for _, m := range f.ids {
		if m == id {
			return true
		}
	}
	return false
}
func (f *fakeModems) Modems() []api.Modem {
	var out []api.Modem
	for _, id := range f.ids {
		out = append(out, api.Modem{ID: id, ICCID: f.iccid})
	}
	return out
}

func (f *fakeModems) SetSIMState(id, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.simState == nil {
		f.simState = map[string]string{}
	}
	f.simState[id] = state
}

type noLimits struct{}

func (noLimits) SendLimits(string, string) api.SendLimits { return api.SendLimits{} }

// newTestSending serves a scheduler with no lanes over fakes; the
// scheduler is not run: tests dispatch.
func newTestSending(t *testing.T, modems ...string) (*Sending, *fakeMessages, *Scheduler) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	sched := NewScheduler(clock.now, nil, func(string) {})
	msgs := &fakeMessages{byID: map[string]*store.Message{}}
	s, err := New(msgs, fakeSIMs{}, &fakeModems{ids: modems}, sched, Options{Config: config.Default().Send, Limits: noLimits{}, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	return s, msgs, sched
}

// serve answers one request through the feature's routes.
func serve(t *testing.T, s *Sending, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	a, err := httpapi.New(s.Routes(), []httpapi.Fragment{OpenAPI()}, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(method, "http://localhost"+path, strings.NewReader(body))
	if method != "GET" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	return w
}

func (f *fakeMessages) Expire(_ context.Context, id string) (*store.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.byID[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	m.State, m.Error = store.Expired, &store.ErrorInfo{Code: "expired"}
	return m, nil
}

func (f *fakeMessages) PartNotSent(_ context.Context, id string, _ int, cause store.ErrorInfo, retryAt time.Time) (*store.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.byID[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	m.State, m.Error = store.Queued, &cause
	if retryAt.IsZero() {
		m.State = store.Failed
	}
	return m, nil
}
