package service

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/health"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
	"github.com/gsmbridge/gsmbridge/sms"
)

// statusCustomer is the phone the rack's messages go to and its reply
// comes from; neither it nor any SIM's own number may appear unmasked.
const statusCustomer = "+79161234567"

// statusRack is a daemon on four simulated modems, one per operator, after
// some real traffic: two messages sent, one reply received, every balance
// read by USSD (one under its threshold).
type statusRack struct {
	*harness
	ownNumbers []string
	secrets    []string // texts that must never reach the page
}

func startStatusRack(t *testing.T) *statusRack {
	t.Helper()
	r := &statusRack{}
	balances := []string{"151,25", "1 204,00", "87,10", "-12,30"}
	var mcs []modemsim.ModemConfig
	for i, d := range []modemsim.Dialect{modemsim.Huawei, modemsim.SIMCom, modemsim.Quectel, modemsim.Generic} {
		mcs = append(mcs, modemsim.ModemConfig{Dialect: d, Balance: balances[i]})
	}
	r.harness = startHarnessModems(t, modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond, ReportDelay: 10 * time.Millisecond},
		func(cfg *config.Config, _ *modemsim.Network, modems []*modemsim.Modem) {
			cfg.Balance.Stagger = 0 // check every balance at once, so the page has them
			cfg.SIMs = map[string]config.SIM{}
			for i, m := range modems {
				mc := m.Config()
				r.ownNumbers = append(r.ownNumbers, mc.MSISDN)
				cfg.Modems[i].Name = "rack-" + string(rune('A'+i))
				sc := config.SIM{MSISDN: mc.MSISDN, Name: "SIM " + string(rune('A'+i))}
				if i == 0 {
					sc.BalanceLow = "500.00"
				}
				cfg.SIMs[mc.ICCID] = sc
			}
		}, mcs...)
	n := r.net
	r.waitReady(4)
	n.Phones().Add(statusCustomer, modemsim.PhoneRule{Never: true})
	for _, text := range []string{"Платёж 4711 подтверждён", "Код 93817"} {
		r.secrets = append(r.secrets, text)
		var acc struct{ ID string }
		if code := r.do("POST", "/v1/messages", map[string]any{"to": statusCustomer, "text": text}, &acc); code != http.StatusAccepted {
			t.Fatalf("POST /v1/messages: %d", code)
		}
		eventually(t, "message sent", func() bool {
			var m api.Message
			r.do("GET", "/v1/messages/"+acc.ID, nil, &m)
			return m.State == store.Sent
		})
	}
	// A payment waiting for the customer, who never answers.
	var c api.Confirmation
	if code := r.do("POST", "/v1/confirmations", map[string]any{"id": "pay-status", "phone": statusCustomer, "txn": "4711",
		"amount": "1500.00", "currency": "RUB"}, &c); code != http.StatusAccepted {
		t.Fatalf("POST /v1/confirmations: %d", code)
	}
	eventually(t, "confirmation sent", func() bool {
		r.do("GET", "/v1/confirmations/pay-status", nil, &c)
		return c.State == payment.Sent
	})
	reply := "Да, это я"
	r.secrets = append(r.secrets, reply)
	if err := n.Phones().Send(statusCustomer, r.ownNumbers[1], reply); err != nil {
		t.Fatal(err)
	}
	eventually(t, "reply and every balance on the status", func() bool {
		s := r.status()
		received, balances := false, 0
		for _, x := range s.SIMs {
			received = received || !x.LastReceivedAt.IsZero()
			if x.Balance != nil {
				balances++
			}
		}
		return received && balances == 4
	})
	return r
}

func (r *statusRack) status() health.StatusSnapshot {
	r.t.Helper()
	var s health.StatusSnapshot
	if code := r.do("GET", "/v1/status", nil, &s); code != http.StatusOK {
		r.t.Fatalf("GET /v1/status: %d", code)
	}
	return s
}

// leaks names every full phone number and message text found in page.
func (r *statusRack) leaks(page string) []string {
	var found []string
	for _, s := range append(append([]string{statusCustomer}, r.ownNumbers...), r.secrets...) {
		if strings.Contains(page, s) || strings.Contains(page, strings.TrimPrefix(s, "+")) {
			found = append(found, s)
		}
	}
	return found
}

func TestStatusShowsTheRackWithoutNumbersOrTexts(t *testing.T) {
	r := startStatusRack(t)
	resp, err := http.Get(r.url + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if leaked := r.leaks(string(raw)); len(leaked) > 0 {
		t.Fatalf("/v1/status shows %q in full:\n%s", leaked, raw)
	}
	var s health.StatusSnapshot
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}

	if s.ConfirmationsPending != 1 {
		t.Errorf("%d confirmations pending, want 1", s.ConfirmationsPending)
	}
	operators := map[string]bool{}
	for i, m := range s.Modems {
		operators[m.Operator.Name] = true
		if m.State != StateReady || m.SignalBars == 0 {
			t.Errorf("modem %s: state %s, %d bars", m.ID, m.State, m.SignalBars)
		}
		if want := sms.MaskNumber(r.ownNumbers[i]); m.MSISDN != want {
			t.Errorf("modem %s shows number %q, want %q", m.ID, m.MSISDN, want)
		}
	}
	for _, op := range []string{"MTS", "MegaFon", "Beeline", "Tele2"} {
		if !operators[op] {
			t.Errorf("no modem of %s in %v", op, operators)
		}
	}

	if len(s.SIMs) != 4 {
		t.Fatalf("%d SIMs, want 4", len(s.SIMs))
	}
	sentDay, received := 0, 0
	for i, x := range s.SIMs {
		if !x.Present || x.Modem != s.Modems[i].ID {
			t.Errorf("SIM row %d is in %q (present %v), want in modem row %d (%s)", i, x.Modem, x.Present, i, s.Modems[i].ID)
		}
		if x.Limits.PerDay <= 0 {
			t.Errorf("SIM %s: daily limit %d, want the operator's", x.ICCID, x.Limits.PerDay)
		}
		sentDay += x.SentLastDay
		if !x.LastReceivedAt.IsZero() {
			received++
		}
		if x.Balance == nil || x.Balance.Amount == "" {
			t.Errorf("SIM %s: no balance", x.ICCID)
		}
	}
	if sentDay != 3 || received != 1 {
		t.Errorf("SIMs sent %d parts and received on %d SIMs, want 3 and 1", sentDay, received)
	}
	if b := s.SIMs[0].Balance; b == nil || b.Amount != "151.25" || !b.Low || b.Threshold != "500.00" {
		t.Errorf("SIM under its threshold shows balance %+v, want 151.25 low against 500.00", b)
	}
	if b := s.SIMs[3].Balance; b == nil || b.Amount != "-12.30" || b.Low {
		t.Errorf("SIM without threshold shows balance %+v, want -12.30 not low", b)
	}

	if len(s.RecentMessages) != 3 {
		t.Fatalf("%d recent messages, want 3 (two messages and a confirmation)", len(s.RecentMessages))
	}
	for _, m := range s.RecentMessages {
		if m.To != sms.MaskNumber(statusCustomer) || m.State != "sent" && m.State != "delivered" || m.Parts != 1 {
			t.Errorf("recent message %+v", m)
		}
	}
	if !s.RecentMessages[0].CreatedAt.After(s.RecentMessages[1].CreatedAt) && s.RecentMessages[0].CreatedAt != s.RecentMessages[1].CreatedAt {
		t.Errorf("recent messages are not newest first: %v then %v", s.RecentMessages[0].CreatedAt, s.RecentMessages[1].CreatedAt)
	}
}

// bareDaemon is a daemon that was never run: enough for handlers that read
// the store and the (empty) modem list.
func bareDaemon(t *testing.T, tokens ...string) *Service {
	t.Helper()
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = t.TempDir()
	for _, tok := range tokens {
		cfg.Auth.Tokens = append(cfg.Auth.Tokens, config.Token{Hash: config.HashToken(tok)})
	}
	d, err := New(cfg, Options{Observe: checkAnswers(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.store.Close() })
	return d
}

func TestStatusAccessRule(t *testing.T) {
	const token = "wall-screen-token"
	secured := bareDaemon(t, token)
	open := bareDaemon(t)
	cases := []struct {
		name       string
		d          *Service
		path       string
		remote     string
		header     map[string]string
		wantStatus int
		wantType   string
	}{
		{"page on loopback", secured, "/", "127.0.0.1:40000", nil, 200, "text/html"},
		{"page on IPv6 loopback", secured, "/", "[::1]:40000", nil, 200, "text/html"},
		{"page from the LAN", secured, "/", "192.0.2.7:40000", nil, 401, "text/plain"},
		{"page from the LAN with token", secured, "/?token=" + token, "192.0.2.7:40000", nil, 200, "text/html"},
		{"page from the LAN with a wrong token", secured, "/?token=guess", "192.0.2.7:40000", nil, 401, "text/plain"},
		{"page through a local proxy", secured, "/", "127.0.0.1:40000", map[string]string{"X-Forwarded-For": "192.0.2.7"}, 401, "text/plain"},
		{"page through a local proxy (RFC 7239)", secured, "/", "127.0.0.1:40000", map[string]string{"Forwarded": "for=192.0.2.7"}, 401, "text/plain"},
		{"page without tokens configured", open, "/", "192.0.2.7:40000", nil, 200, "text/html"},
		{"unknown path is not the page", secured, "/nope", "127.0.0.1:40000", nil, 404, "application/json"},
		{"status on loopback", secured, "/v1/status", "127.0.0.1:40000", nil, 200, "application/json"},
		{"status from the LAN", secured, "/v1/status", "192.0.2.7:40000", nil, 401, "application/json"},
		{"status from the LAN with bearer", secured, "/v1/status", "192.0.2.7:40000", map[string]string{"Authorization": "Bearer " + token}, 200, "application/json"},
		{"status from the LAN with a wrong bearer", secured, "/v1/status", "192.0.2.7:40000", map[string]string{"Authorization": "Bearer guess"}, 401, "application/json"},
		// A token in a JSON URL ends up in proxy and access logs; only the
		// page, which cannot do otherwise, takes one there.
		{"status from the LAN with query token", secured, "/v1/status?token=" + token, "192.0.2.7:40000", nil, 401, "application/json"},
		{"status through a local proxy", secured, "/v1/status", "127.0.0.1:40000", map[string]string{"X-Forwarded-For": "192.0.2.7"}, 401, "application/json"},
		// The loopback rule opens the status, not the rest of the API.
		{"modems on loopback still need a token", secured, "/v1/modems", "127.0.0.1:40000", nil, 401, "application/json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The daemon's own address as the client dialled it: Host passes.
			req := httptest.NewRequest("GET", "http://192.0.2.1:8780"+c.path, nil)
			req.RemoteAddr = c.remote
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			c.d.Handler().ServeHTTP(rec, req)
			if rec.Code != c.wantStatus || !strings.HasPrefix(rec.Header().Get("Content-Type"), c.wantType) {
				t.Fatalf("%d %s, want %d %s: %s", rec.Code, rec.Header().Get("Content-Type"), c.wantStatus, c.wantType, rec.Body)
			}
			switch {
			case rec.Code == 200 && c.wantType == "text/html":
				if !strings.Contains(rec.Body.String(), "<title>gsmbridge status</title>") {
					t.Fatalf("page body is not the status page: %.200s", rec.Body)
				}
				if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") {
					t.Fatalf("page without a content security policy: %q", csp)
				}
			case rec.Code == 200:
				var s health.StatusSnapshot
				if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil || s.Modems == nil || s.SIMs == nil || s.RecentMessages == nil {
					t.Fatalf("status body %s (%v): want empty lists, not nulls", rec.Body, err)
				}
			}
		})
	}
}
