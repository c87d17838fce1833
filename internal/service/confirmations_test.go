package service

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// confirmRig is a harness whose daemon can be stopped and started again over
// the same simulated network and data directory, as a restart in the field.
type confirmRig struct {
	*harness
	cfg *config.Config
}

func startConfirmRig(t *testing.T, adjust func(*config.Config), modems int) *confirmRig {
	t.Helper()
	n, err := modemsim.NewNetwork(modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond, ReportDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = t.TempDir()
	cfg.Health.IdleCheckAfter = 300 * time.Millisecond
	cfg.Receive.PollInterval = time.Hour
	cfg.Confirmations.ExpiryGrace = 300 * time.Millisecond
	// The operator's send limits (two a minute) would hold the tests' SMS
	// back; they are the scheduler's business, not this feature's.
	cfg.Operators = []config.Operator{{PLMN: []string{"25001"}, Limits: config.Limits{PerMinute: -1, PerHour: -1, PerDay: -1}}}
	r := &confirmRig{harness: &harness{t: t, net: n, dataDir: cfg.DataDir}, cfg: cfg}
	for i := 0; i < modems; i++ {
		// One operator for all, so no test depends on which SIM is picked.
		m, err := n.AddModem(modemsim.ModemConfig{Dialect: modemsim.Generic, PLMN: "25001"})
		if err != nil {
			t.Fatal(err)
		}
		r.modems = append(r.modems, m)
		cfg.Modems = append(cfg.Modems, config.Modem{Port: m.Path(), Baud: 115200})
	}
	if adjust != nil {
		adjust(cfg)
	}
	r.start()
	r.waitReady(modems)
	return r
}

// start runs a daemon over the rig's configuration and data directory.
func (r *confirmRig) start() {
	t := r.t
	t.Helper()
	d, err := New(r.cfg, Options{Logger: testLogger(), Observe: checkAnswers(t)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.url = "http://" + ln.Addr().String()
	r.d = d
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, ln) }()
	var once sync.Once
	r.stopDaemon = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("daemon Run: %v", err)
			}
			http.DefaultClient.CloseIdleConnections()
		})
	}
	t.Cleanup(r.stopDaemon)
}

func (r *confirmRig) confirm(body map[string]any) api.Confirmation {
	r.t.Helper()
	var c api.Confirmation
	if code := r.do("POST", "/v1/confirmations", body, &c); code != http.StatusAccepted {
		r.t.Fatalf("POST /v1/confirmations: %d", code)
	}
	return c
}

func (r *confirmRig) get(id string) api.Confirmation {
	r.t.Helper()
	var c api.Confirmation
	if code := r.do("GET", "/v1/confirmations/"+id, nil, &c); code != http.StatusOK {
		r.t.Fatalf("GET confirmation %s: %d", id, code)
	}
	return c
}

func (r *confirmRig) waitState(id string, want payment.State) api.Confirmation {
	r.t.Helper()
	var c api.Confirmation
	eventually(r.t, fmt.Sprintf("confirmation %s %s", id, want), func() bool {
		c = r.get(id)
		if c.State.Final() && c.State != want {
			r.t.Fatalf("confirmation %s became %s (%s), want %s", id, c.State, c.Reason, want)
		}
		return c.State == want
	})
	return c
}

func paymentBody(id, phone, txn string) map[string]any {
	return map[string]any{"id": id, "phone": phone, "txn": txn, "amount": "1500.00", "currency": "RUB"}
}

func TestCustomerAnswersDecideTheConfirmation(t *testing.T) {
	cases := []struct {
		name   string
		rule   modemsim.PhoneRule
		ttl    string
		want   payment.State
		reason string
	}{
		{"any reply confirms", modemsim.PhoneRule{Reply: "Да", After: 50 * time.Millisecond}, "", payment.Confirmed, ""},
		{"0 cancels", modemsim.PhoneRule{Reply: " 0 "}, "", payment.Cancelled, payment.ReasonCustomerCancelled},
		{"silence expires", modemsim.PhoneRule{Never: true}, "1s", payment.Expired, ""},
		{"a long reply confirms", modemsim.PhoneRule{Reply: strings.Repeat("Да, подтверждаю. ", 6)}, "", payment.Confirmed, ""},
	}
	r := startConfirmRig(t, nil, 1)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r.t = t
			phone := fmt.Sprintf("+7916000000%d", i)
			r.net.Phones().Add(phone, tc.rule)
			req := paymentBody(fmt.Sprintf("pay-%d", i), "8"+phone[2:], "12345")
			if tc.ttl != "" {
				req["ttl"] = tc.ttl
			}
			c := r.confirm(req)
			if c.State != payment.Queued || c.Parts != 1 || c.Phone != phone {
				t.Fatalf("accepted %+v", c)
			}
			got := r.waitState(c.ID, tc.want)
			if got.Reason != tc.reason {
				t.Fatalf("reason %q, want %q", got.Reason, tc.reason)
			}
			inbox := r.net.Phones().Inbox(phone)
			want := "Платёж 12345: 1 500,00 руб. Любой ответ - да, 0 - отмена"
			if len(inbox) != 1 || inbox[0].Text != want {
				t.Fatalf("the customer read %+v, want %q", inbox, want)
			}
		})
	}
	r.t = t
	eventually(t, "three answers timed in the metrics", func() bool {
		return strings.Contains(r.scrape(), "\ngsmbridge_confirmation_reply_seconds_count 3\n")
	})
	for _, s := range r.modems[0].Record().Sent() {
		if !s.SRR {
			t.Fatalf("a confirmation SMS went out without a delivery report request: %+v", s)
		}
	}
}

func TestRepliesFromOthersAndLateRepliesChangeNothing(t *testing.T) {
	r := startConfirmRig(t, nil, 1)
	customer, stranger := "+79161111111", "+79162222222"
	r.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	c := r.confirm(paymentBody("pay-1", customer, "A-1"))
	r.waitState(c.ID, payment.Sent)
	own := r.modems[0].Config().MSISDN
	if err := r.net.Phones().Send(stranger, own, "Да"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the stranger's SMS in the inbox", func() bool {
		var page inboxPage
		r.do("GET", "/v1/inbox", nil, &page)
		return len(page.Messages) == 1
	})
	if got := r.get(c.ID); got.State != payment.Sent || got.Version != 2 {
		t.Fatalf("a stranger's reply changed the confirmation: %+v", got)
	}
	// Now the customer: the first answer decides, a second changes nothing.
	r.net.Phones().Send(customer, own, "0")
	r.waitState(c.ID, payment.Cancelled)
	r.net.Phones().Send(customer, own, "Да, всё-таки да")
	eventually(t, "three SMS in the inbox", func() bool {
		var page inboxPage
		r.do("GET", "/v1/inbox", nil, &page)
		return len(page.Messages) == 3
	})
	if got := r.get(c.ID); got.State != payment.Cancelled || got.Version != 3 {
		t.Fatalf("a second reply changed a final confirmation: %+v", got)
	}
	var conflict struct {
		Error        struct{ Code string }
		Confirmation api.Confirmation
	}
	if code := r.do("DELETE", "/v1/confirmations/"+c.ID, nil, &conflict); code != http.StatusConflict ||
		conflict.Confirmation.State != payment.Cancelled {
		t.Fatalf("DELETE of a final confirmation: %d %+v", code, conflict)
	}
}

func TestTwoPaymentsOfOneCustomerResolveIndependently(t *testing.T) {
	r := startConfirmRig(t, nil, 2)
	customer := "+79163333333"
	r.net.Phones().Add(customer, modemsim.PhoneRule{Match: "T-1", Reply: "Да", After: 300 * time.Millisecond})
	r.net.Phones().Add(customer, modemsim.PhoneRule{Match: "T-2", Reply: "0", After: 300 * time.Millisecond})
	first := r.confirm(paymentBody("pay-1", customer, "T-1"))
	second := r.confirm(paymentBody("pay-2", customer, "T-2"))
	a := r.waitState(first.ID, payment.Confirmed)
	b := r.waitState(second.ID, payment.Cancelled)
	if a.ICCID == "" || a.ICCID == b.ICCID {
		t.Fatalf("both went out through SIM %q; one customer must have one pending confirmation per SIM", a.ICCID)
	}
}

func TestSecondPaymentWaitsForTheOnlySIM(t *testing.T) {
	r := startConfirmRig(t, nil, 1)
	customer := "+79164444444"
	r.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	first := r.confirm(paymentBody("pay-1", customer, "W-1"))
	r.waitState(first.ID, payment.Sent)
	second := r.confirm(paymentBody("pay-2", customer, "W-2"))
	// A third payment to someone else is not held back by the veto.
	r.net.Phones().Add("+79165555555", modemsim.PhoneRule{Never: true})
	other := r.confirm(paymentBody("pay-3", "+79165555555", "W-3"))
	r.waitState(other.ID, payment.Sent)
	if got := r.get(second.ID); got.State != payment.Queued {
		t.Fatalf("second payment is %s while the first is pending on the only SIM", got.State)
	}
	r.net.Phones().Send(customer, r.modems[0].Config().MSISDN, "Да")
	r.waitState(first.ID, payment.Confirmed)
	r.waitState(second.ID, payment.Sent)
}

func TestReplyWaitingOnTheSIMWhileTheDaemonIsDownCounts(t *testing.T) {
	r := startConfirmRig(t, nil, 1)
	customer := "+79166666666"
	r.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	c := r.confirm(map[string]any{"id": "pay-1", "phone": customer, "txn": "R-1", "amount": "10.5", "currency": "RUB", "ttl": "2s"})
	r.waitState(c.ID, payment.Sent)
	r.stopDaemon()
	if err := r.net.Phones().Send(customer, r.modems[0].Config().MSISDN, "да"); err != nil {
		t.Fatal(err)
	}
	// The deadline passing while nobody reads the SIM is the point of the
	// test, so here the test waits for the clock itself.
	<-time.After(time.Until(c.ExpiresAt.Add(500 * time.Millisecond)))
	r.start()
	got := r.waitState(c.ID, payment.Confirmed)
	if got.ReplyInboxID == 0 {
		t.Fatalf("confirmed without its reply: %+v", got)
	}
}

func TestReplyFollowsTheSIMIntoAnotherModem(t *testing.T) {
	r := startConfirmRig(t, nil, 2)
	customer := "+79168888888"
	r.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	c := r.confirm(paymentBody("pay-1", customer, "M-1"))
	c = r.waitState(c.ID, payment.Sent)
	from, to := r.modems[0], r.modems[1]
	if from.Config().ICCID != c.ICCID {
		from, to = to, from
	}
	moved := from.Config()
	var modems struct{ Modems []ModemStatus }
	r.do("GET", "/v1/modems", nil, &modems)
	sentBy := ""
	for _, m := range modems.Modems {
		if m.ICCID == c.ICCID {
			sentBy = m.ID
		}
	}
	// The field tester moves the SIM into the other modem.
	from.SIM().Remove()
	to.SIM().Insert(moved.ICCID, moved.IMSI, moved.MSISDN)
	to.Reboot()
	eventually(t, "the SIM ready in the other modem and the first one without a SIM", func() bool {
		r.do("GET", "/v1/modems", nil, &modems)
		ready, missing := false, false
		for _, m := range modems.Modems {
			ready = ready || m.ICCID == moved.ICCID && m.ID != sentBy && m.State == StateReady
			missing = missing || m.ID == sentBy && m.State == StateSIMMissing
		}
		return ready && missing
	})
	if err := r.net.Phones().Send(customer, moved.MSISDN, "Да"); err != nil {
		t.Fatal(err)
	}
	got := r.waitState(c.ID, payment.Confirmed)
	var reply api.InboxMessage
	r.do("GET", fmt.Sprintf("/v1/inbox/%d", got.ReplyInboxID), nil, &reply)
	if reply.ICCID != moved.ICCID || reply.Modem == sentBy {
		t.Fatalf("the deciding reply came in on SIM %s in modem %s; the SMS went out from modem %s", reply.ICCID, reply.Modem, sentBy)
	}
}

func TestConfirmationOfALostSIMFailsInTheEnd(t *testing.T) {
	r := startConfirmRig(t, func(c *config.Config) { c.Confirmations.SIMLostAfter = 1500 * time.Millisecond }, 1)
	customer := "+79167777777"
	r.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	c := r.confirm(map[string]any{"id": "pay-1", "phone": customer, "txn": "L-1", "amount": "10", "currency": "RUB", "ttl": "1s"})
	r.waitState(c.ID, payment.Sent)
	r.modems[0].SIM().Remove()
	got := r.waitState(c.ID, payment.Failed)
	if !strings.HasPrefix(got.Reason, "SIM failure: its SIM was not read within 1.5s after the deadline") {
		t.Errorf("reason %q", got.Reason)
	}
	if got.FinalAt.Before(got.ExpiresAt.Add(1500 * time.Millisecond)) {
		t.Errorf("failed at %v, before the deadline %v plus sim_lost_after", got.FinalAt, got.ExpiresAt)
	}
	if types := r.eventTypes("confirmation", c.ID); fmt.Sprint(types) != "[confirmation.queued confirmation.sent confirmation.failed]" {
		t.Errorf("events %v", types)
	}
}

func TestConfirmationRequests(t *testing.T) {
	r := startConfirmRig(t, func(c *config.Config) { c.Confirmations.EnforceLimits = true }, 1)
	r.net.Phones().Add("+79167777777", modemsim.PhoneRule{Never: true})
	bad := []struct {
		change map[string]any
		code   int
		field  string
	}{
		{map[string]any{"id": ""}, 400, "id"},
		{map[string]any{"id": "a/b"}, 400, "id"},
		{map[string]any{"id": "."}, 400, "id"},
		{map[string]any{"id": ".."}, 400, "id"},
		{map[string]any{"phone": "+7916abc"}, 400, "phone"},
		{map[string]any{"txn": "1234567890123"}, 400, "txn"},
		{map[string]any{"txn": "12 34"}, 400, "txn"},
		{map[string]any{"amount": "0.00"}, 400, "amount"},
		{map[string]any{"amount": "15.005"}, 400, "amount"},
		{map[string]any{"amount": "1e3"}, 400, "amount"},
		{map[string]any{"amount": "1000000.00"}, 400, "amount"},
		{map[string]any{"currency": "USD"}, 400, "currency"},
		{map[string]any{"ttl": "0s"}, 400, "ttl"},
		{map[string]any{"ttl": "100h"}, 400, "ttl"},
		{map[string]any{"text": "Оплата {amount}"}, 400, "text"},
		{map[string]any{"text": "{txn} {amount} {name}"}, 400, "text"},
		{map[string]any{"text": "Подтвердите, пожалуйста, платёж номер {txn} на сумму {amount} ответом на это сообщение"}, 400, "text"},
		{map[string]any{"customer_operator": "250-20"}, 400, "customer_operator"},
		{map[string]any{"customer_operator": "25011"}, 422, "customer_operator"}, // no profile: limits cannot be enforced
		{map[string]any{"customer_operator": "25020"}, 422, "amount"},            // Tele2 allows 1000.00 per payment
		{map[string]any{"colour": "red"}, 400, "colour"},
	}
	for _, b := range bad {
		body := paymentBody("pay-bad", "+79167777777", "12345")
		for k, v := range b.change {
			body[k] = v
		}
		var e struct {
			Error struct{ Code, Message, Field string }
		}
		if code := r.do("POST", "/v1/confirmations", body, &e); code != b.code || e.Error.Field != b.field {
			t.Errorf("%v: %d field %q (%s), want %d field %q", b.change, code, e.Error.Field, e.Error.Message, b.code, b.field)
		}
	}
	var list struct{ Confirmations []api.Confirmation }
	r.do("GET", "/v1/confirmations", nil, &list)
	if len(list.Confirmations) != 0 || len(r.modems[0].Record().Sent()) != 0 {
		t.Fatalf("bad requests stored %d confirmations", len(list.Confirmations))
	}

	first := r.confirm(map[string]any{"id": "pay-1", "phone": "+79167777777", "txn": "X-1", "amount": "1500", "currency": "RUB",
		"ttl": "30m", "customer_operator": "25001"})
	var again api.Confirmation
	if code := r.do("POST", "/v1/confirmations", map[string]any{"id": "pay-1", "phone": "89167777777", "txn": "X-1",
		"amount": "1500.00", "currency": "RUB", "ttl": "1800s", "customer_operator": "25001"}, &again); code != http.StatusOK || again.MessageID != first.MessageID {
		t.Fatalf("the same payment spelled differently: %d %+v", code, again)
	}
	if code := r.do("POST", "/v1/confirmations", paymentBody("pay-1", "+79167777777", "X-2"), nil); code != http.StatusConflict {
		t.Fatalf("the same id for another payment: %d, want 409", code)
	}

	// A long poll answers when the version moves on, not at its deadline.
	sent := r.waitState(first.ID, payment.Sent)
	start := time.Now()
	polled := make(chan api.Confirmation, 1)
	go func() {
		var c api.Confirmation
		r.do("GET", fmt.Sprintf("/v1/confirmations/%s?wait=30s&version=%d", first.ID, sent.Version), nil, &c)
		polled <- c
	}()
	var cancelled api.Confirmation
	if code := r.do("DELETE", "/v1/confirmations/"+first.ID, nil, &cancelled); code != http.StatusOK || cancelled.Reason != payment.ReasonAPICancelled {
		t.Fatalf("DELETE: %d %+v", code, cancelled)
	}
	if c := <-polled; c.State != payment.Cancelled || time.Since(start) > 10*time.Second {
		t.Fatalf("long poll answered %s after %s", c.State, time.Since(start))
	}
	if c := r.get(first.ID + "?wait=5s&version=1"); c.State != payment.Cancelled {
		t.Fatalf("a poll with an old version: %s", c.State)
	}
	r.do("GET", "/v1/confirmations?state=cancelled", nil, &list)
	if len(list.Confirmations) != 1 || list.Confirmations[0].ID != "pay-1" {
		t.Fatalf("list of cancelled: %+v", list.Confirmations)
	}
}

// The payment core retries with the body it sent; a configuration changed
// in between (template, default ttl) must not turn that into a conflict.
func TestRetryAfterAConfigChangeIsTheSamePayment(t *testing.T) {
	r := startConfirmRig(t, nil, 1)
	r.net.Phones().Add("+79160101010", modemsim.PhoneRule{Never: true})
	body := paymentBody("pay-1", "+79160101010", "K-1")
	first := r.confirm(body)
	r.stopDaemon()
	r.cfg.Confirmations.Template = "Оплата {txn} на {amount}. Ответ 0 - отмена, иначе - да"
	r.cfg.Confirmations.DefaultTTL = 45 * time.Minute
	r.start()
	r.waitReady(1)
	var again api.Confirmation
	if code := r.do("POST", "/v1/confirmations", body, &again); code != http.StatusOK || again.MessageID != first.MessageID || again.Text != first.Text {
		t.Fatalf("the same body after a config change: %d %+v", code, again)
	}
	body["ttl"] = "45m"
	if code := r.do("POST", "/v1/confirmations", body, nil); code != http.StatusConflict {
		t.Fatalf("the same id with a ttl it did not ask for before: %d, want 409", code)
	}
}

func TestQuoteNamesCommissionAndBrokenLimits(t *testing.T) {
	r := startConfirmRig(t, func(c *config.Config) {
		// A second operator of the same name makes the name ambiguous.
		c.Operators = append(c.Operators, config.Operator{PLMN: []string{"40177"}, Name: "Tele2", BalanceCode: "*100#"})
	}, 1)
	r.net.Phones().Add("+79168888888", modemsim.PhoneRule{Never: true})
	for i := 0; i < 5; i++ {
		r.confirm(paymentBody(fmt.Sprintf("mts-%d", i), "+79168888888", "Q"))
	}
	cases := []struct {
		body       map[string]any
		commission string
		total      string
		breaks     []string
	}{
		{map[string]any{"customer_operator": "25001", "amount": "1500.00"}, "14.25", "1514.25", nil},
		{map[string]any{"customer_operator": "25001", "amount": "1500.00", "phone": "89168888888"}, "14.25", "1514.25", []string{"payments_per_day"}},
		{map[string]any{"customer_operator": "25001", "amount": "25000", "phone": "+79168888888"}, "237.50", "25237.50", []string{"per_day", "payments_per_day"}},
		{map[string]any{"customer_operator": "25020", "amount": "1000.01"}, "24.50", "1024.51", []string{"per_payment"}},
		{map[string]any{"customer_operator": "25099", "amount": "0.01"}, "0.00", "0.01", nil},
		// By name, in any case, as well as by PLMN.
		{map[string]any{"customer_operator": "mts", "amount": "1500.00", "phone": "89168888888"}, "14.25", "1514.25", []string{"payments_per_day"}},
		{map[string]any{"customer_operator": "BeeLine", "amount": "0.01"}, "0.00", "0.01", nil},
		{map[string]any{"customer_operator": "megafon", "amount": "100"}, "", "", nil},
	}
	for _, c := range cases {
		var q api.Quote
		if code := r.do("POST", "/v1/quote", c.body, &q); code != http.StatusOK {
			t.Fatalf("%v: %d", c.body, code)
		}
		var names []string
		for _, b := range q.Breaks {
			names = append(names, b.Limit)
		}
		if c.commission == "" {
			if q.OperatorName != "MegaFon" || q.CustomerOperator != c.body["customer_operator"] {
				t.Errorf("%v: operator %q asked as %q, want MegaFon asked as given", c.body, q.OperatorName, q.CustomerOperator)
			}
			continue
		}
		if q.Commission.String() != c.commission || q.Total.String() != c.total || fmt.Sprint(names) != fmt.Sprint(c.breaks) {
			t.Errorf("%v: commission %s total %s breaks %v, want %s %s %v", c.body, q.Commission, q.Total, names, c.commission, c.total, c.breaks)
		}
	}
	refused := []struct{ operator, code string }{
		{"99999", "unknown_operator"},
		{"yota", "unknown_operator"},
		{"tele2", "ambiguous_operator"},
		{"2502", "invalid_field"},
		{"", "invalid_field"},
		{strings.Repeat("m", 41), "invalid_field"},
	}
	for _, c := range refused {
		var e struct{ Error httpapi.Error }
		if code := r.do("POST", "/v1/quote", map[string]any{"customer_operator": c.operator, "amount": "1"}, &e); code/100 != 4 || e.Error.Field != "customer_operator" || e.Error.Code != c.code {
			t.Errorf("customer_operator %q: %d %+v, want %s on the field", c.operator, code, e, c.code)
		}
	}
}
