package service

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// A balance check dials a USSD code, so only a POST that passes the
// browser guards runs one: a GET, which a web page can make a browser send
// with no Origin, reads and never dials, and says where the check went.
func TestOnlyAGuardedPostChecksTheBalance(t *testing.T) {
	h := startUSSDHarness(t, nil, simSpec{modemsim.Generic, "25001"})
	m := h.modems[0]
	sim, modem := "/v1/sims/"+m.Config().ICCID+"/balance", "/v1/modems/"+h.modemID(m)+"/balance"
	jsonType := map[string]string{"Content-Type": "application/json"}
	dialled := func() int { return strings.Count(h.sentCommands(m), "AT+CUSD=1") }
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		code, field              string
		dials                    int
	}{
		{"GET with refresh=true", "GET", sim + "?refresh=true", "", nil, 400, "invalid_field", "refresh", 0},
		{"GET with refresh=1", "GET", modem + "?refresh=1", "", nil, 400, "invalid_field", "refresh", 0},
		{"GET with refresh=false", "GET", sim + "?refresh=false", "", nil, 400, "invalid_field", "refresh", 0},
		{"GET with an empty refresh", "GET", sim + "?refresh=", "", nil, 400, "invalid_field", "refresh", 0},
		{"GET reads", "GET", sim, "", nil, 200, "", "", 0},
		{"a page's text/plain post", "POST", sim, "{}", map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type", "", 0},
		{"a post from another origin", "POST", modem, "{}", map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, 403, "forbidden_origin", "", 0},
		{"a field the check does not take", "POST", sim, `{"refresh":true}`, jsonType, 400, "invalid_field", "refresh", 0},
		{"no body", "POST", sim, "", jsonType, 400, "invalid_json", "", 0},
		{"POST to the SIM checks", "POST", sim, "{}", jsonType, 200, "", "", 1},
		{"POST to the modem checks", "POST", modem, "{}", jsonType, 200, "", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dialled()
			a := request(t, tt.method, h.url+tt.path, tt.body, tt.header, "")
			if a.status != tt.status || a.body.Error.Code != tt.code || a.body.Error.Field != tt.field {
				t.Fatalf("%d %+v, want %d %q on field %q: %s", a.status, a.body.Error, tt.status, tt.code, tt.field, a.raw)
			}
			if tt.field == "refresh" && tt.method == "GET" && !strings.Contains(a.body.Error.Message, "POST "+strings.SplitN(tt.path, "?", 2)[0]) {
				t.Fatalf("the refusal does not point to the POST: %q", a.body.Error.Message)
			}
			if got := dialled() - before; got != tt.dials {
				t.Fatalf("the modem was asked %d times for the balance, want %d", got, tt.dials)
			}
		})
	}
	var v api.BalanceView
	if code := h.do("GET", sim, nil, &v); code != http.StatusOK || v.Balance == nil || v.State.Checks != 2 {
		t.Fatalf("stored: %d %+v %+v, want the two checks' reading", code, v.Balance, v.State)
	}
}

// A check that outlasts what a request may wait (here the operator's SMS
// never comes) is answered 504 with its own code before the HTTP server's
// write timeout would drop the connection, and counted as a failed check.
func TestABalanceCheckAnswersWithinItsBudget(t *testing.T) {
	h := startUSSDHarnessWith(t, Options{balanceCheckBudget: 300 * time.Millisecond}, func(cfg *config.Config, _ []*modemsim.Modem) {
		cfg.Operators = []config.Operator{{PLMN: []string{"25020"}, BalanceBySMSPatterns: []string{`Popolnite`}, ServiceSenders: []string{"611"}}}
		cfg.USSD.ReplyTimeout = time.Minute // the SMS wait alone would take this long
	}, simSpec{modemsim.Generic, "25020"})
	m := h.modems[0]
	path := "/v1/sims/" + m.Config().ICCID + "/balance"
	var e ussdErrorBody
	if code := h.do("POST", path, struct{}{}, &e); code != http.StatusGatewayTimeout || e.Error.Code != "balance_check_timeout" {
		t.Fatalf("%d %+v, want 504 balance_check_timeout", code, e.Error)
	}
	var v api.BalanceView
	if code := h.do("GET", path, nil, &v); code != http.StatusOK || v.State.CheckFailures != 1 || v.Balance != nil {
		t.Fatalf("after the timeout: %d %+v %+v, want one failed check and no reading", code, v.State, v.Balance)
	}
	// The modem is free again: the given-up check left no session open.
	var open api.USSDAnswer
	if code := h.do("POST", "/v1/modems/"+h.modemID(m)+"/ussd", map[string]string{"code": "*111#"}, &open); code != http.StatusOK {
		t.Fatalf("a session after the timeout: %d", code)
	}
}
