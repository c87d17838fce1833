package modem

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/internal/work"
	"github.com/gsmbridge/gsmbridge/modemsim"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// fakeWork opens one lane whose jobs the test hands over.
type fakeWork struct {
	mu     sync.Mutex
	lanes  []work.Lane
	closed []string
	jobs   chan work.Job
}

func (w *fakeWork) Open(_ context.Context, l work.Lane) (<-chan work.Job, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lanes = append(w.lanes, l)
	return w.jobs, nil
}

func (w *fakeWork) Close(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = append(w.closed, id)
}

func (w *fakeWork) Hold(string, string, bool) {}

type jobFunc func(ctx context.Context, m *gsm.Modem) work.Result

func (f jobFunc) Run(ctx context.Context, m *gsm.Modem) work.Result { return f(ctx, m) }

// fakeInbound takes every PDU as a received message.
type fakeInbound struct {
	mu   sync.Mutex
	pdus []string
}

func (in *fakeInbound) Watch(string) {}
func (in *fakeInbound) Take(_ context.Context, _ Source, pdu string) (Taken, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.pdus = append(in.pdus, pdu)
	return Taken{Message: true}, nil
}
func (in *fakeInbound) Left(context.Context, Source, gsm.Slot, string, error) {}
func (in *fakeInbound) Keep(Source, string, error)                            {}
func (in *fakeInbound) RetryUnstored(context.Context, Source) int             { return 0 }
func (in *fakeInbound) taken() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.pdus)
}

// fakeDevices saves what it is given and keeps the modem events.
type fakeDevices struct {
	mu     sync.Mutex
	events []string
}

func (d *fakeDevices) SaveModem(_ context.Context, m store.Modem) (store.Modem, error) { return m, nil }
func (d *fakeDevices) SaveSIM(_ context.Context, s store.SIM) (store.SIM, string, error) {
	s.State = store.SIMActive
	return s, "", nil
}
func (d *fakeDevices) ModemEvent(_ context.Context, _, typ string, _ any) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.events = append(d.events, typ)
	return nil
}

type noOperators struct{}

func (noOperators) ForIMSI(string) (ussd.Profile, bool)   { return ussd.Profile{}, false }
func (noOperators) SIM(string, string) (config.SIM, bool) { return config.SIM{}, false }

type noLoads struct{}

func (noLoads) Loads() map[string]api.LaneLoad { return nil }

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A configured modem on the simulator becomes ready, opens its lane, runs
// the jobs it is handed and counts their parts, runs other features' work
// between them, hands what it receives to Inbound, and is shown on
// /v1/modems; when the pool stops, its lane closes.
func TestPoolServesASimulatedModem(t *testing.T) {
	w := &fakeWork{jobs: make(chan work.Job)}
	in, devices := &fakeInbound{}, &fakeDevices{}
	n, sim, p, ctx, stop := simPool(t, modemsim.Generic, w, in, devices, nil)

	eventually(t, "the modem ready", func() bool { m := p.Modems(); return len(m) == 1 && m[0].State == api.ModemReady })
	id := p.Modems()[0].ID
	if id != sim.Config().IMEI || !p.Has(id) || p.Has("nope") {
		t.Fatalf("modem id %q, want its IMEI %q", id, sim.Config().IMEI)
	}

	w.jobs <- jobFunc(func(ctx context.Context, m *gsm.Modem) work.Result {
		if _, err := m.Signal(ctx); err != nil {
			t.Errorf("signal in a job: %v", err)
		}
		return work.Result{Parts: 2, Failure: errors.New("network out of order (CMS 38)")}
	})
	eventually(t, "the job's parts counted", func() bool { return p.Modems()[0].Sent == 2 })
	if st := p.Modems()[0]; st.SendFailures != 1 || st.LastError != "network out of order (CMS 38)" {
		t.Fatalf("after the job: failures %d, last error %q", st.SendFailures, st.LastError)
	}

	errBusy := errors.New("busy")
	if err := p.Do(ctx, id, func(ctx context.Context, m *gsm.Modem) error { return errBusy }); err != errBusy {
		t.Fatalf("Do: %v, want fn's error", err)
	}
	if err := p.Do(ctx, "nope", nil); !errors.Is(err, ErrNoModem) {
		t.Fatalf("Do on an unknown modem: %v, want ErrNoModem", err)
	}

	if err := n.Phones().Send("+79161234567", sim.Config().MSISDN, "hello"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the SMS handed to Inbound", func() bool { return in.taken() == 1 && p.Modems()[0].Received == 1 })

	a, err := httpapi.New(p.Routes(), []httpapi.Fragment{OpenAPI()}, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/v1/modems": http.StatusOK, "/v1/modems/" + id: http.StatusOK, "/v1/modems/nope": http.StatusNotFound} {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost"+path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}

	stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.lanes) != 1 || w.lanes[0].Modem != id || len(w.closed) != 1 || w.closed[0] != id {
		t.Fatalf("lanes opened %+v, closed %v: want one for %s, closed at the stop", w.lanes, w.closed, id)
	}
	devices.mu.Lock()
	defer devices.mu.Unlock()
	if len(devices.events) == 0 || devices.events[0] != "modem.up" {
		t.Fatalf("modem events %v, want modem.up", devices.events)
	}
}
