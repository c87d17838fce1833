package sending

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Resuming a suspect SIM through the API shows it active on its modem and
// lets the modem's lane take work again; an unknown SIM is 404.
func TestResumedSIMTakesWorkAgain(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	sched := NewScheduler(clock.now, nil, func(string) {})
	modems := &fakeModems{ids: []string{"mA"}, iccid: "8970"}
	sim := &store.SIM{ICCID: "8970", PLMN: "25001", State: store.SIMSuspect}
	s, err := New(&fakeMessages{byID: map[string]*store.Message{}}, fakeSIMs{sim: sim}, modems, sched,
		Options{Config: config.Default().Send, Limits: noLimits{}, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	lane := sched.AddLane("mA", "8970", "25001", SendLimits{}, nil)
	sched.Pause("mA", "suspect")
	sched.Enqueue(msg("waiting", clock.t))
	sched.Dispatch()
	if m := take(lane); m != nil {
		t.Fatalf("a suspect SIM's lane got %s", m.ID)
	}

	w := serve(t, s, "POST", "/v1/sims/8970/resume", "")
	var got api.SIM
	json.Unmarshal(w.Body.Bytes(), &got)
	if w.Code != http.StatusOK || got.State != store.SIMActive {
		t.Fatalf("resume: %d %s, want 200 and the SIM active", w.Code, w.Body)
	}
	if modems.simState["mA"] != store.SIMActive {
		t.Fatalf("modem shows SIM state %q, want active", modems.simState["mA"])
	}
	sched.Dispatch()
	if m := take(lane); m == nil || m.ID != "waiting" {
		t.Fatalf("after the resume the lane got %v, want the waiting message", m)
	}

	if w := serve(t, s, "POST", "/v1/sims/8999/resume", ""); w.Code != http.StatusNotFound {
		t.Fatalf("resume of an unknown SIM: %d, want 404", w.Code)
	}
	w = serve(t, s, "GET", "/v1/sims", "")
	var list api.SIMList
	json.Unmarshal(w.Body.Bytes(), &list)
	if w.Code != http.StatusOK || len(list.SIMs) != 1 || list.SIMs[0].ICCID != "8970" {
		t.Fatalf("GET /v1/sims: %d %s", w.Code, w.Body)
	}
}
