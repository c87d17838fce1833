package service

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// heldMessage is a message as GET /v1/messages shows it, with its hold.
type heldMessage struct {
	api.Message
	Hold *api.Hold `json:"hold"`
}

// limitedHarness runs one MTS modem whose SIMs may send perMinute SMS a
// minute and no other limit.
func limitedHarness(t *testing.T, perMinute int, prepare func(*modemsim.Network, []*modemsim.Modem)) *harness {
	return startHarnessModems(t, modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond, ReportDelay: 10 * time.Millisecond},
		func(c *config.Config, n *modemsim.Network, ms []*modemsim.Modem) {
			c.Operators = []config.Operator{{PLMN: []string{"25001"}, Limits: config.Limits{PerMinute: perMinute, PerHour: -1, PerDay: -1}}}
			if prepare != nil {
				prepare(n, ms)
			}
		}, modemsim.ModemConfig{Dialect: modemsim.Generic, PLMN: "25001"})
}

func TestHeldMessageShowsItsHoldInTheAPI(t *testing.T) {
	h := limitedHarness(t, 1, nil)
	h.waitReady(1)
	customer := "+79161234567"
	h.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	var first, second struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": customer, "text": "первое"}, &first)
	var sent api.Message
	eventually(t, "first message sent", func() bool {
		h.do("GET", "/v1/messages/"+first.ID, nil, &sent)
		return sent.State == store.Sent
	})
	h.do("POST", "/v1/messages", map[string]any{"to": customer, "text": "второе"}, &second)
	var m heldMessage
	eventually(t, "second message held by the per-minute limit", func() bool {
		h.do("GET", "/v1/messages/"+second.ID, nil, &m)
		return m.Hold != nil
	})
	if m.State != store.Queued || m.Attempts != 0 || m.Hold.Reason != api.HoldSIMLimit {
		t.Fatalf("message %s attempts %d hold %+v, want queued, 0, sim_limit", m.State, m.Attempts, m.Hold)
	}
	// The window frees when the first part is a minute old.
	if u, want := m.Hold.Until, sent.SentAt.Add(time.Minute); u.Before(want.Add(-time.Second)) || u.After(want.Add(time.Second)) {
		t.Fatalf("held until %v, want about %v (a minute after the first send)", u, want)
	}
	if !strings.Contains(m.Hold.Detail, "per_minute limit 1") {
		t.Fatalf("detail %q does not name the limit", m.Hold.Detail)
	}
	var list struct{ Messages []heldMessage }
	h.do("GET", "/v1/messages?state=queued", nil, &list)
	if len(list.Messages) != 1 || list.Messages[0].Hold == nil || list.Messages[0].Hold.Reason != api.HoldSIMLimit {
		t.Fatalf("list shows %+v, want the held message with its hold", list.Messages)
	}
	var cancelled heldMessage
	if code := h.do("DELETE", "/v1/messages/"+second.ID, nil, &cancelled); code != http.StatusOK || cancelled.Hold != nil {
		t.Fatalf("cancel: %d, hold %+v", code, cancelled.Hold)
	}
	var done heldMessage
	h.do("GET", "/v1/messages/"+first.ID, nil, &done)
	if done.Hold != nil {
		t.Fatalf("a sent message shows hold %+v", done.Hold)
	}
}

// A confirmation posted after a backlog of plain SMS is the first thing the
// modem sends once it can.
func TestConfirmationSMSGoesBeforeThePlainBacklog(t *testing.T) {
	h := limitedHarness(t, -1, func(_ *modemsim.Network, ms []*modemsim.Modem) { ms[0].Radio().SetRegistration(0) })
	eventually(t, "modem held for no service", func() bool {
		var out struct{ Modems []ModemStatus }
		h.do("GET", "/v1/modems", nil, &out)
		return len(out.Modems) == 1 && out.Modems[0].State == StateNoService
	})
	customer, payer := "+79161234567", "+79169876543"
	h.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	h.net.Phones().Add(payer, modemsim.PhoneRule{Never: true})
	var plain []string
	for _, text := range []string{"plain one", "plain two", "plain three"} {
		var acc struct{ ID string }
		if code := h.do("POST", "/v1/messages", map[string]any{"to": customer, "text": text}, &acc); code != http.StatusAccepted {
			t.Fatalf("POST message: %d", code)
		}
		plain = append(plain, acc.ID)
	}
	var c api.Confirmation
	if code := h.do("POST", "/v1/confirmations", paymentBody("pay-1", payer, "T1"), &c); code != http.StatusAccepted {
		t.Fatalf("POST confirmation: %d", code)
	}
	var m heldMessage
	eventually(t, "backlog held for want of a modem", func() bool {
		h.do("GET", "/v1/messages/"+plain[0], nil, &m)
		return m.Hold != nil
	})
	if m.Hold.Reason != api.HoldNoReadyModem || !m.Hold.Until.IsZero() {
		t.Fatalf("hold %+v, want no_ready_modem without a time", m.Hold)
	}
	var held struct {
		api.Confirmation
		Hold *api.Hold `json:"hold"`
	}
	h.do("GET", "/v1/confirmations/"+c.ID, nil, &held)
	if held.State != payment.Queued || held.Hold == nil || held.Hold.Reason != api.HoldNoReadyModem {
		t.Fatalf("confirmation %s hold %+v, want queued with no_ready_modem", held.State, held.Hold)
	}
	h.modems[0].Radio().SetRegistration(1)
	eventually(t, "all four sent", func() bool { return len(h.modems[0].Record().Sent()) == 4 })
	first := h.modems[0].Record().Sent()[0]
	if first.To != payer || first.Text != c.Text {
		t.Fatalf("first PDU went to %s with %q, want the confirmation to %s", first.To, first.Text, payer)
	}
	held.Hold = nil // a field the answer leaves out keeps its old value
	h.do("GET", "/v1/confirmations/"+c.ID, nil, &held)
	if held.State != payment.Sent || held.Hold != nil {
		t.Fatalf("confirmation %s hold %+v, want sent without a hold", held.State, held.Hold)
	}
}

// postRaw sends body bytes as they are: json.Marshal would already have
// replaced invalid UTF-8.
func postRaw(t *testing.T, h *harness, path, body string) (int, httpapi.Error) {
	t.Helper()
	resp, err := http.Post(h.url+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error httpapi.Error }
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error
}

func TestLongAndInvalidTextsAreRefusedAndNothingStored(t *testing.T) {
	h := startHarness(t, modemsim.Generic)
	h.waitReady(1)
	tooLong := strings.Repeat("a", 153*10+1) // 11 GSM 7-bit parts
	cases := []struct {
		name, path, body string
		code             string
	}{
		// Read whole for the UTF-8 check, a body over limits_http.max_body_bytes
		// is still answered 413.
		{"body too large", "/v1/messages", `{"to":"+79161234567","text":"` + strings.Repeat("я", 40000) + `"}`, "body_too_large"},
		{"11 parts", "/v1/messages", `{"to":"+79161234567","text":"` + tooLong + `"}`, "too_many_parts"},
		{"invalid byte", "/v1/messages", "{\"to\":\"+79161234567\",\"text\":\"pay \xff now\"}", "invalid_utf8"},
		{"cut Cyrillic", "/v1/messages", "{\"to\":\"+79161234567\",\"text\":\"\xd0\"}", "invalid_utf8"},
		{"unpaired surrogate escape", "/v1/messages", `{"to":"+79161234567","text":"x\ud800y"}`, "invalid_utf8"},
		{"lone low surrogate escape", "/v1/messages", `{"to":"+79161234567","text":"\udc00"}`, "invalid_utf8"},
		{"confirmation template", "/v1/confirmations",
			"{\"id\":\"p1\",\"phone\":\"+79161234567\",\"txn\":\"T1\",\"amount\":\"10.00\",\"currency\":\"RUB\",\"text\":\"{txn} {amount} \xc3\"}", "invalid_utf8"},
		{"confirmation surrogate", "/v1/confirmations",
			`{"id":"p2","phone":"+79161234567","txn":"T1","amount":"10.00","currency":"RUB","text":"{txn} {amount} \ud83d"}`, "invalid_utf8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, e := postRaw(t, h, tc.path, tc.body)
			if tc.code == "body_too_large" {
				if code != http.StatusRequestEntityTooLarge || e.Code != tc.code {
					t.Fatalf("%d %+v, want 413 %s", code, e, tc.code)
				}
				return
			}
			if code != http.StatusBadRequest || e.Code != tc.code || e.Field != "text" {
				t.Fatalf("%d %+v, want 400 %s on field text", code, e, tc.code)
			}
			if tc.code == "too_many_parts" && !strings.Contains(e.Message, "send.max_parts allows 10") {
				t.Fatalf("message %q does not name the limit", e.Message)
			}
		})
	}
	var list struct{ Messages []api.Message }
	h.do("GET", "/v1/messages", nil, &list)
	var confs struct{ Confirmations []api.Confirmation }
	h.do("GET", "/v1/confirmations", nil, &confs)
	if len(list.Messages) != 0 || len(confs.Confirmations) != 0 || len(h.modems[0].Record().Sent()) != 0 {
		t.Fatalf("refused requests left %d messages, %d confirmations, %d sends", len(list.Messages), len(confs.Confirmations), len(h.modems[0].Record().Sent()))
	}
}

func TestReservedReferencesAreRefused(t *testing.T) {
	h := startHarness(t, modemsim.Generic)
	h.waitReady(1)
	for _, ref := range []string{"confirmation:cf_1", "cancel-notice:cf_1"} {
		code, e := postRaw(t, h, "/v1/messages", `{"to":"+79161234567","text":"hi","reference":"`+ref+`"}`)
		if code != http.StatusBadRequest || e.Field != "reference" {
			t.Fatalf("reference %q: %d %+v, want 400 on field reference", ref, code, e)
		}
	}
	if code, _ := postRaw(t, h, "/v1/messages", `{"to":"+79161234567","text":"hi","reference":"order:confirmation:1"}`); code != http.StatusAccepted {
		t.Fatalf("a reference that only contains the word: %d, want 202", code)
	}
	var list struct{ Messages []api.Message }
	h.do("GET", "/v1/messages", nil, &list)
	if len(list.Messages) != 1 {
		t.Fatalf("%d messages stored, want only the allowed one", len(list.Messages))
	}
}
