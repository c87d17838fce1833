package sending

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

func TestPostRefusesWhatCannotBeSent(t *testing.T) {
	s, msgs, _ := newTestSending(t, "m1")
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"no recipient", `{"text":"hi"}`, http.StatusBadRequest, "invalid_field"},
		{"no text", `{"to":"+79161234567"}`, http.StatusBadRequest, "invalid_field"},
		{"ttl not a duration", `{"to":"+79161234567","text":"hi","ttl":"soon"}`, http.StatusBadRequest, "invalid_field"},
		{"unknown modem", `{"to":"+79161234567","text":"hi","modem":"m9"}`, http.StatusUnprocessableEntity, "unknown_modem"},
		{"operator not a PLMN", `{"to":"+79161234567","text":"hi","operator":"MTS"}`, http.StatusBadRequest, "invalid_field"},
		{"operator no SIM serves", `{"to":"+79161234567","text":"hi","operator":"25001"}`, http.StatusUnprocessableEntity, "no_sim_for_operator"},
		{"reserved reference", `{"to":"+79161234567","text":"hi","reference":"confirmation:1"}`, http.StatusBadRequest, "invalid_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(t, s, "POST", "/v1/messages", tt.body)
			var e struct{ Error struct{ Code string } }
			json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != tt.status || e.Error.Code != tt.code {
				t.Fatalf("%d %s, want %d %s", w.Code, w.Body, tt.status, tt.code)
			}
		})
	}
	if len(msgs.byID) != 0 {
		t.Fatalf("%d messages stored from refused requests", len(msgs.byID))
	}
}

// An accepted message is queued and, while no modem can send it, says why.
func TestAcceptedMessageIsQueuedAndSaysWhatHoldsIt(t *testing.T) {
	s, _, sched := newTestSending(t, "m1")
	w := serve(t, s, "POST", "/v1/messages", `{"to":"+7 916 123-45-67","text":"hi","modem":"m1"}`)
	var acc api.Accepted
	json.Unmarshal(w.Body.Bytes(), &acc)
	if w.Code != http.StatusAccepted || acc.State != store.Queued || w.Header().Get("Location") != "/v1/messages/"+acc.ID {
		t.Fatalf("POST: %d %s (Location %q)", w.Code, w.Body, w.Header().Get("Location"))
	}
	if sched.QueueDepth() != 1 {
		t.Fatalf("queue depth %d, want the message queued", sched.QueueDepth())
	}
	w = serve(t, s, "GET", "/v1/messages/"+acc.ID, "")
	var m api.Message
	json.Unmarshal(w.Body.Bytes(), &m)
	if w.Code != http.StatusOK || m.To != "+79161234567" || m.Hold == nil || m.Hold.Reason != HoldPinnedModemUnavailable {
		t.Fatalf("GET: %d %s, want the normalised number and hold %s", w.Code, w.Body, HoldPinnedModemUnavailable)
	}
}

// A queued message can be cancelled once: it leaves the scheduler's queue,
// and a second cancel is a conflict that shows the message.
func TestCancelTakesTheMessageOffTheQueue(t *testing.T) {
	s, _, sched := newTestSending(t)
	w := serve(t, s, "POST", "/v1/messages", `{"to":"+79161234567","text":"hi"}`)
	var acc api.Accepted
	json.Unmarshal(w.Body.Bytes(), &acc)
	if w = serve(t, s, "DELETE", "/v1/messages/"+acc.ID, ""); w.Code != http.StatusOK {
		t.Fatalf("DELETE: %d %s", w.Code, w.Body)
	}
	if sched.QueueDepth() != 0 {
		t.Fatalf("queue depth %d after the cancel, want 0", sched.QueueDepth())
	}
	w = serve(t, s, "DELETE", "/v1/messages/"+acc.ID, "")
	var conflict struct {
		Error   struct{ Code string }
		Message api.Message
	}
	json.Unmarshal(w.Body.Bytes(), &conflict)
	if w.Code != http.StatusConflict || conflict.Error.Code != "conflict" || conflict.Message.State != store.Cancelled {
		t.Fatalf("second DELETE: %d %s, want 409 with the cancelled message", w.Code, w.Body)
	}
	if w = serve(t, s, "GET", "/v1/messages/msg_none", ""); w.Code != http.StatusNotFound {
		t.Fatalf("GET of an unknown id: %d, want 404", w.Code)
	}
}
