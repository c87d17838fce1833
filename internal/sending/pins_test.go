package sending

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// fakeFleet serves the pins other hosts serve, and keeps what it was
// handed to submit.
type fakeFleet struct {
	Fleet
	modems    map[string][]string // the other hosts running each
	operators map[string]bool
	down      bool // the fleet cannot be read
	submitted []store.NewMessage
}

func (f *fakeFleet) ServedBy(_ context.Context, p Pin) ([]string, error) {
	if f.down {
		return nil, &httpapi.Error{Status: http.StatusServiceUnavailable, Code: "fleet_unavailable", Message: "no NATS server answers"}
	}
	if f.operators[p.Operator] {
		return []string{"b"}, nil
	}
	return f.modems[p.Modem], nil
}

func (f *fakeFleet) Submit(w http.ResponseWriter, _ *http.Request, n store.NewMessage) {
	f.submitted = append(f.submitted, n)
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"id": "msg_fleet", "state": store.Queued})
}

// In a fleet a pin this host does not serve is accepted when another host
// serves it, and goes to the fleet; one nobody serves keeps its 422, and a
// fleet that cannot tell answers 503. A modem id on more than one host (an
// IMEI clones repeat, a USB path) is refused: either might send it.
func TestPinsAnotherHostServesGoToTheFleet(t *testing.T) {
	s, msgs, _ := newTestSending(t, "m1", "m3")
	f := &fakeFleet{modems: map[string][]string{"m2": {"b"}, "m3": {"b"}, "m4": {"b", "c"}}, operators: map[string]bool{"25099": true}}
	s.JoinFleet(f)
	tests := []struct {
		name, body string
		status     int
		code       string
		down       bool
	}{
		{"this host's modem", `{"to":"+79161234567","text":"hi","modem":"m1"}`, http.StatusAccepted, "", false},
		{"another host's modem", `{"to":"+79161234567","text":"hi","modem":"m2"}`, http.StatusAccepted, "", false},
		{"another host's operator", `{"to":"+79161234567","text":"hi","operator":"25099"}`, http.StatusAccepted, "", false},
		{"a modem no host runs", `{"to":"+79161234567","text":"hi","modem":"m9"}`, http.StatusUnprocessableEntity, "unknown_modem", false},
		{"an operator no host serves", `{"to":"+79161234567","text":"hi","operator":"25020"}`, http.StatusUnprocessableEntity, "no_sim_for_operator", false},
		{"a modem id both this host and another run", `{"to":"+79161234567","text":"hi","modem":"m3"}`, http.StatusUnprocessableEntity, "ambiguous_modem", false},
		{"a modem id two other hosts run", `{"to":"+79161234567","text":"hi","modem":"m4"}`, http.StatusUnprocessableEntity, "ambiguous_modem", false},
		{"this host's modem, the fleet cannot tell", `{"to":"+79161234567","text":"hi","modem":"m1"}`, http.StatusServiceUnavailable, "fleet_unavailable", true},
		{"the fleet cannot tell", `{"to":"+79161234567","text":"hi","modem":"m2"}`, http.StatusServiceUnavailable, "fleet_unavailable", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.down = tt.down
			w := serve(t, s, "POST", "/v1/messages", tt.body)
			var e struct{ Error struct{ Code string } }
			json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != tt.status || e.Error.Code != tt.code {
				t.Fatalf("%d %s, want %d %s", w.Code, w.Body, tt.status, tt.code)
			}
		})
	}
	f.down = false
	w := serve(t, s, "POST", "/v1/messages", `{"to":"+79161234567","text":"hi","modem":"m3"}`)
	var e struct {
		Error struct{ Field, Message string }
	}
	json.Unmarshal(w.Body.Bytes(), &e)
	if want := `modem: "m3" names a modem on this host and on host b (a repeated IMEI, or a USB path each host has), and the fleet cannot tell which is meant; pin an operator instead`; e.Error.Field != "modem" || e.Error.Message != want {
		t.Errorf("an ambiguous pin: %s\nwant %s", w.Body, want)
	}
	if len(f.submitted) != 3 || f.submitted[0].PinModem != "m1" || f.submitted[1].PinModem != "m2" || f.submitted[2].PinOperator != "25099" {
		t.Fatalf("submitted to the fleet: %+v", f.submitted)
	}
	if len(msgs.byID) != 0 {
		t.Fatalf("%d messages stored here; the fleet takes them", len(msgs.byID))
	}
}
