package service

import (
	"net/http"
	"testing"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// A body encoding/json would read with another meaning than its sender's is
// refused through the whole API, naming the field, and nothing is queued or
// sent: a second "to" must not send to the second number.
func TestAmbiguousBodiesAreRefusedAndNothingSent(t *testing.T) {
	h := startHarness(t, modemsim.Generic)
	h.waitReady(1)
	cases := []struct {
		name, path, body string
		code, field      string
	}{
		{"repeated to", "/v1/messages", `{"to":"+79161110001","text":"hi","to":"+79031110003"}`, "invalid_field", "to"},
		{"to in capitals", "/v1/messages", `{"TO":"+79161110001","text":"hi"}`, "invalid_field", "TO"},
		{"stray brace", "/v1/messages", `{"to":"+79161110001","text":"hi"}}`, "invalid_json", ""},
		{"stray bracket", "/v1/messages", `{"to":"+79161110001","text":"hi"}]`, "invalid_json", ""},
		{"not an object", "/v1/messages", `[1]`, "invalid_json", ""},
		{"repeated amount", "/v1/confirmations",
			`{"id":"p1","phone":"+79161110001","txn":"T1","amount":"10.00","currency":"RUB","amount":"9000.00"}`, "invalid_field", "amount"},
		{"repeated USSD code", "/v1/modems/" + h.d.Modems()[0].ID + "/ussd", `{"code":"*100#","code":"*101#"}`, "invalid_field", "code"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, e := postRaw(t, h, tc.path, tc.body)
			if code != http.StatusBadRequest || e.Code != tc.code || e.Field != tc.field {
				t.Fatalf("%d %+v, want 400 %s on field %q", code, e, tc.code, tc.field)
			}
		})
	}
	var list struct{ Messages []api.Message }
	h.do("GET", "/v1/messages", nil, &list)
	var confs struct{ Confirmations []api.Confirmation }
	h.do("GET", "/v1/confirmations", nil, &confs)
	rec := h.modems[0].Record()
	if len(list.Messages) != 0 || len(confs.Confirmations) != 0 || len(rec.Sent()) != 0 || rec.Commands("AT+CUSD=1") != 0 {
		t.Fatalf("refused requests left %d messages, %d confirmations, %d sends, %d USSD requests",
			len(list.Messages), len(confs.Confirmations), len(rec.Sent()), rec.Commands("AT+CUSD=1"))
	}
}
