package service

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/hw"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// ussdHarness is a harness whose configuration the test shapes and whose
// ports record what the daemon wrote, so a test can check the commands the
// simulated modem received.
type ussdHarness struct {
	*harness
	d       *Service
	mu      sync.Mutex
	written map[string]*bytes.Buffer // by port path
}

type recordingPort struct {
	io.ReadWriteCloser
	h    *ussdHarness
	path string
}

func (p recordingPort) Write(b []byte) (int, error) {
	p.h.mu.Lock()
	p.h.written[p.path].Write(b)
	p.h.mu.Unlock()
	return p.ReadWriteCloser.Write(b)
}

// sentCommands is everything the daemon wrote to a modem so far.
func (h *ussdHarness) sentCommands(m *modemsim.Modem) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if b := h.written[m.Path()]; b != nil {
		return b.String()
	}
	return ""
}

type simSpec struct {
	dialect modemsim.Dialect
	plmn    string
}

// startUSSDHarness starts a daemon over one simulated modem per spec. Its
// defaults keep scheduled balance checks out of the way (tests that want
// them shorten balance.stagger) and allow the simulator's *111# menu.
func startUSSDHarness(t *testing.T, shape func(cfg *config.Config, modems []*modemsim.Modem), specs ...simSpec) *ussdHarness {
	t.Helper()
	return startUSSDHarnessWith(t, Options{}, shape, specs...)
}

// startUSSDHarnessWith is startUSSDHarness with the daemon's options; their
// port opener and answer check are the harness's.
func startUSSDHarnessWith(t *testing.T, opts Options, shape func(cfg *config.Config, modems []*modemsim.Modem), specs ...simSpec) *ussdHarness {
	t.Helper()
	n, err := modemsim.NewNetwork(modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond, ReportDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h := &ussdHarness{harness: &harness{t: t, net: n}, written: map[string]*bytes.Buffer{}}
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	h.dataDir = cfg.DataDir
	cfg.Health.IdleCheckAfter = 300 * time.Millisecond
	cfg.USSD.Allow = []string{"*111#"}
	cfg.USSD.ReplyTimeout = 2 * time.Second
	cfg.Balance.Interval = 1000 * time.Hour
	cfg.Balance.Stagger = 1000 * time.Hour
	for _, s := range specs {
		m, err := n.AddModem(modemsim.ModemConfig{Dialect: s.dialect, PLMN: s.plmn})
		if err != nil {
			n.Close()
			t.Fatal(err)
		}
		h.modems = append(h.modems, m)
		h.written[m.Path()] = &bytes.Buffer{}
		cfg.Modems = append(cfg.Modems, config.Modem{Port: m.Path(), Baud: 115200})
	}
	if shape != nil {
		shape(cfg, h.modems)
	}
	open := func(path string, pc hw.PortConfig) (io.ReadWriteCloser, error) {
		p, err := hw.Open(path, pc)
		if err != nil {
			return nil, err
		}
		return recordingPort{p, h, path}, nil
	}
	opts.open, opts.Observe = open, checkAnswers(t)
	d, err := New(cfg, opts)
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	h.d = d
	h.harness.d = d
	h.serve(d, n)
	h.waitReady(len(specs))
	return h
}

func (h *ussdHarness) modemID(m *modemsim.Modem) string {
	for _, st := range h.d.Modems() {
		if st.Port == m.Path() {
			return st.ID
		}
	}
	h.t.Fatalf("no modem on %s", m.Path())
	return ""
}

type ussdErrorBody struct {
	Error struct {
		Code, Message, Field       string
		SessionID                  string `json:"session_id"`
		ModemCode                  string `json:"modem_code"`
		Meaning, Text, Raw, Reason string
	}
}

// The four operators' balances, each through a modem of another dialect.
func TestBalanceOfEveryOperatorThroughTheAPI(t *testing.T) {
	specs := []simSpec{{modemsim.Huawei, "25001"}, {modemsim.SIMCom, "25002"}, {modemsim.Quectel, "25099"}, {modemsim.Generic, "25020"}}
	h := startUSSDHarness(t, nil, specs...)
	want := []struct{ amount, name, text string }{
		{"151.25", "MTS", "Баланс: 151,25 руб. Подключите МТС Premium: *111*1010#"},
		{"1234.56", "MegaFon", "Баланс 1 234,56р. Интернет 5 ГБ за 9р: *500#"},
		{"92.40", "Beeline", "Vash balans 92,40 r. Dlya vas - Internet 5GB: *115#"},
		{"-12.30", "Tele2", "Balance -12.30 r. Popolnite schet: *122#"},
	}
	for i, m := range h.modems {
		t.Run(string(specs[i].dialect), func(t *testing.T) {
			var v api.BalanceView
			iccid := m.Config().ICCID
			if code := h.do("POST", "/v1/sims/"+iccid+"/balance", struct{}{}, &v); code != http.StatusOK {
				t.Fatalf("balance check: %d", code)
			}
			if v.Balance == nil || v.Balance.Amount != want[i].amount || v.Balance.Text != want[i].text || v.Operator.Name != want[i].name {
				t.Fatalf("balance %+v operator %+v, want %s %q", v.Balance, v.Operator, want[i].amount, want[i].text)
			}
			if v.Balance.Raw == "" || v.Balance.Source != "ussd" {
				t.Fatalf("raw reply not kept: %+v", v.Balance)
			}
			// The modem endpoint shows the stored reading without asking again.
			var again api.BalanceView
			h.do("GET", "/v1/modems/"+h.modemID(m)+"/balance", nil, &again)
			if again.Balance == nil || again.Balance.Amount != want[i].amount || again.State.Checks != 1 {
				t.Fatalf("stored reading %+v state %+v", again.Balance, again.State)
			}
		})
	}
	// Huawei sticks get the code GSM 7-bit packed: *100# is AA180C3602.
	if cmds := h.sentCommands(h.modems[0]); !strings.Contains(cmds, `AT+CUSD=1,"AA180C3602",15`) {
		t.Fatalf("the Huawei modem got no packed request:\n%s", cmds)
	}
	if cmds := h.sentCommands(h.modems[1]); !strings.Contains(cmds, `AT+CUSD=1,"*100#",15`) {
		t.Fatalf("the SIMCom modem got no text request:\n%s", cmds)
	}
}

// The simulator's *111# opens a menu; "1" answers it with the balance.
func TestTwoStepMenuInEveryDialect(t *testing.T) {
	specs := []simSpec{{modemsim.Generic, "25001"}, {modemsim.Huawei, "25002"}, {modemsim.SIMCom, "25099"}, {modemsim.Quectel, "25020"}}
	h := startUSSDHarness(t, nil, specs...)
	wantBalance := []string{"151,25", "1 234,56", "92,40", "-12.30"}
	for i, m := range h.modems {
		t.Run(string(specs[i].dialect), func(t *testing.T) {
			var first api.USSDAnswer
			if code := h.do("POST", "/v1/modems/"+h.modemID(m)+"/ussd", map[string]string{"code": "*111#"}, &first); code != http.StatusOK {
				t.Fatalf("open: %d", code)
			}
			if !first.Open || first.Text != "1. Balance\n2. Tariff" || first.Status != "action-required" || first.SessionID == "" {
				t.Fatalf("menu answer %+v", first)
			}
			var second api.USSDAnswer
			if code := h.do("POST", "/v1/ussd/"+first.SessionID+"/reply", map[string]string{"text": "1"}, &second); code != http.StatusOK {
				t.Fatalf("reply: %d", code)
			}
			if second.Open || !strings.Contains(second.Text, wantBalance[i]) || second.SessionID != first.SessionID {
				t.Fatalf("menu result %+v", second)
			}
			var e ussdErrorBody
			if code := h.do("POST", "/v1/ussd/"+first.SessionID+"/reply", map[string]string{"text": "1"}, &e); code != http.StatusConflict {
				t.Fatalf("reply to a finished session: %d %+v", code, e)
			}
		})
	}
}

func TestUSSDRequestsTheAPIRefuses(t *testing.T) {
	h := startUSSDHarness(t, nil, simSpec{modemsim.Generic, "25001"})
	id := h.modemID(h.modems[0])
	before := h.sentCommands(h.modems[0])
	cases := []struct {
		path  string
		body  any
		code  int
		field string
	}{
		{"/v1/modems/" + id + "/ussd", map[string]string{"code": "*123#"}, http.StatusForbidden, "code"},
		{"/v1/modems/" + id + "/ussd", map[string]string{"code": "*105#"}, http.StatusForbidden, "code"}, // Tele2's, on an MTS SIM
		{"/v1/modems/" + id + "/ussd", map[string]string{"code": `*100#",15;+CMGS`}, http.StatusBadRequest, "code"},
		{"/v1/modems/" + id + "/ussd", map[string]string{"code": ""}, http.StatusBadRequest, "code"},
		{"/v1/modems/" + id + "/ussd", map[string]string{"code": "*100#", "extra": "x"}, http.StatusBadRequest, "extra"},
		{"/v1/modems/nope/ussd", map[string]string{"code": "*100#"}, http.StatusNotFound, ""},
		{"/v1/ussd/ussd_nope/reply", map[string]string{"text": "1"}, http.StatusNotFound, ""},
		{"/v1/ussd/ussd_nope/reply", map[string]string{"text": "1 OR 1"}, http.StatusBadRequest, "text"},
		// Sent as a new request if the menu ended meanwhile: a transfer.
		{"/v1/ussd/ussd_nope/reply", map[string]string{"text": "*145*9161234567*500#"}, http.StatusForbidden, "text"},
		{"/v1/ussd/ussd_nope/reply", map[string]string{"text": "#"}, http.StatusNotFound, ""},
	}
	for _, c := range cases {
		var e ussdErrorBody
		if code := h.do("POST", c.path, c.body, &e); code != c.code || e.Error.Field != c.field {
			t.Errorf("%s %v: %d field %q (%s), want %d field %q", c.path, c.body, code, e.Error.Field, e.Error.Message, c.code, c.field)
		}
	}
	if after := h.sentCommands(h.modems[0]); strings.Contains(after[len(before):], "CUSD") {
		t.Fatalf("a refused request reached the modem:\n%s", after[len(before):])
	}
}

func TestBusyModemNamesTheSessionHoldingIt(t *testing.T) {
	h := startUSSDHarness(t, nil, simSpec{modemsim.Generic, "25001"})
	m := h.modems[0]
	id := h.modemID(m)
	var open api.USSDAnswer
	h.do("POST", "/v1/modems/"+id+"/ussd", map[string]string{"code": "*111#"}, &open)
	if !open.Open {
		t.Fatalf("menu not open: %+v", open)
	}
	var e ussdErrorBody
	if code := h.do("POST", "/v1/modems/"+id+"/ussd", map[string]string{"code": "*100#"}, &e); code != http.StatusConflict ||
		e.Error.SessionID != open.SessionID || !strings.Contains(e.Error.Message, open.SessionID) {
		t.Fatalf("second session: %d %+v", code, e)
	}
	if code := h.do("POST", "/v1/sims/"+m.Config().ICCID+"/balance", struct{}{}, &e); code != http.StatusConflict || e.Error.SessionID != open.SessionID {
		t.Fatalf("balance check during a session: %d %+v", code, e)
	}
	var closed api.USSDSession
	if code := h.do("DELETE", "/v1/ussd/"+open.SessionID, nil, &closed); code != http.StatusOK || closed.State != store.USSDClosed {
		t.Fatalf("end: %d %+v", code, closed)
	}
	if !strings.HasSuffix(strings.TrimRight(h.sentCommands(m), "\r\n"), "AT+CUSD=2") {
		t.Fatalf("ending did not send AT+CUSD=2:\n%s", h.sentCommands(m))
	}
	var v api.BalanceView
	if code := h.do("POST", "/v1/sims/"+m.Config().ICCID+"/balance", struct{}{}, &v); code != http.StatusOK || v.Balance == nil {
		t.Fatalf("balance after the session: %d %+v", code, v)
	}
}

func TestUSSDFailureShapes(t *testing.T) {
	h := startUSSDHarness(t, nil, simSpec{modemsim.Generic, "25001"}, simSpec{modemsim.Huawei, "25002"})
	cases := []struct {
		fault     modemsim.USSDFault
		status    int
		code      string
		modemCode string
	}{
		{modemsim.USSDErrorAfterOK, http.StatusBadGateway, "ussd_modem_error", "+CME ERROR: 258"},
		{modemsim.USSDNetworkTimeout, http.StatusBadGateway, "ussd_network_timeout", "+CUSD: 5"},
		{modemsim.USSDSilent, http.StatusGatewayTimeout, "ussd_no_answer", ""},
		{modemsim.USSDTerminatedFirst, http.StatusOK, "", ""}, // the real answer follows the +CUSD: 2
	}
	for _, m := range h.modems {
		for _, c := range cases {
			t.Run(m.Config().Model+"/"+c.code, func(t *testing.T) {
				m.Faults().FailUSSD(c.fault)
				before := len(h.sentCommands(m))
				var e ussdErrorBody
				var ans api.USSDAnswer
				var out any = &e
				if c.status == http.StatusOK {
					out = &ans
				}
				if code := h.do("POST", "/v1/modems/"+h.modemID(m)+"/ussd", map[string]string{"code": "*100#"}, out); code != c.status {
					t.Fatalf("status %d (%+v), want %d", code, e, c.status)
				}
				if c.status == http.StatusOK {
					if !strings.Contains(ans.Text, "Баланс") || ans.Open {
						t.Fatalf("answer after +CUSD: 2: %+v", ans)
					}
				} else if e.Error.Code != c.code || e.Error.ModemCode != c.modemCode || e.Error.Meaning == "" {
					t.Fatalf("error %+v, want %s %s", e.Error, c.code, c.modemCode)
				}
				if c.fault == modemsim.USSDSilent && !strings.Contains(h.sentCommands(m)[before:], "AT+CUSD=2\r") {
					t.Fatal("an unanswered request was not cancelled with AT+CUSD=2")
				}
				// The modem is free again.
				var ok api.USSDAnswer
				if code := h.do("POST", "/v1/modems/"+h.modemID(m)+"/ussd", map[string]string{"code": "*100#"}, &ok); code != http.StatusOK || ok.Open {
					t.Fatalf("request after the failure: %d %+v", code, ok)
				}
			})
		}
	}
}

// An abandoned menu is closed with AT+CUSD=2 at the session cap, and the
// modem sends again.
func TestAbandonedSessionIsClosedAtItsTimeout(t *testing.T) {
	h := startUSSDHarness(t, func(cfg *config.Config, _ []*modemsim.Modem) { cfg.USSD.SessionTimeout = 700 * time.Millisecond },
		simSpec{modemsim.SIMCom, "25001"})
	m := h.modems[0]
	var open api.USSDAnswer
	h.do("POST", "/v1/modems/"+h.modemID(m)+"/ussd", map[string]string{"code": "*111#"}, &open)
	if !open.Open {
		t.Fatalf("menu not open: %+v", open)
	}
	after := len(h.sentCommands(m))
	eventually(t, "AT+CUSD=2 at the session timeout", func() bool {
		return strings.Contains(h.sentCommands(m)[after:], "AT+CUSD=2\r")
	})
	var e ussdErrorBody
	if code := h.do("POST", "/v1/ussd/"+open.SessionID+"/reply", map[string]string{"text": "1"}, &e); code != http.StatusConflict {
		t.Fatalf("reply after the timeout: %d %+v", code, e)
	}
	h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
	var acc struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "после сессии"}, &acc)
	eventually(t, "send after the session", func() bool { return len(m.Record().Sent()) == 1 })
}

// While a session is open, unpinned messages go through the other modem
// and a message pinned to the busy one waits for the session's end.
func TestSendsAvoidAModemInASession(t *testing.T) {
	h := startUSSDHarness(t, func(cfg *config.Config, _ []*modemsim.Modem) {
		unlimited := config.Limits{PerMinute: -1, PerHour: -1, PerDay: -1}
		cfg.Operators = []config.Operator{{PLMN: []string{"25001"}, Limits: unlimited}, {PLMN: []string{"25002"}, Limits: unlimited}}
	}, simSpec{modemsim.Generic, "25001"}, simSpec{modemsim.Generic, "25002"})
	busy, free := h.modems[0], h.modems[1]
	h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
	var open api.USSDAnswer
	h.do("POST", "/v1/modems/"+h.modemID(busy)+"/ussd", map[string]string{"code": "*111#"}, &open)
	if !open.Open {
		t.Fatalf("menu not open: %+v", open)
	}
	var pinned struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "только через первый", "modem": h.modemID(busy)}, &pinned)
	for i := 0; i < 4; i++ {
		var acc struct{ ID string }
		if code := h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "платёж " + string(rune('A'+i))}, &acc); code != http.StatusAccepted {
			t.Fatalf("accept: %d", code)
		}
	}
	eventually(t, "four sends through the free modem", func() bool { return len(free.Record().Sent()) == 4 })
	var m api.Message
	h.do("GET", "/v1/messages/"+pinned.ID, nil, &m)
	if m.State != store.Queued || len(busy.Record().Sent()) != 0 {
		t.Fatalf("pinned message is %s, busy modem sent %d during the session", m.State, len(busy.Record().Sent()))
	}
	h.do("DELETE", "/v1/ussd/"+open.SessionID, nil, nil)
	eventually(t, "pinned message sent after the session", func() bool { return len(busy.Record().Sent()) == 1 })
}

func TestBalanceLowFollowsEachCrossing(t *testing.T) {
	h := startUSSDHarness(t, func(cfg *config.Config, ms []*modemsim.Modem) {
		cfg.SIMs = map[string]config.SIM{ms[0].Config().ICCID: {BalanceLow: "50"}}
	}, simSpec{modemsim.Quectel, "25020"})
	m := h.modems[0]
	iccid := m.Config().ICCID
	steps := []struct {
		amount string
		low    bool
	}{{"100.00", false}, {"40.00", true}, {"30.00", true}, {"80.00", false}, {"-5.00", true}}
	var lowSince []time.Time
	for _, s := range steps {
		m.USSD().SetBalance(s.amount)
		var v api.BalanceView
		if code := h.do("POST", "/v1/sims/"+iccid+"/balance", struct{}{}, &v); code != http.StatusOK {
			t.Fatalf("balance check: %d", code)
		}
		if v.State.Low != s.low || v.Threshold != "50.00" || v.Balance.Amount != s.amount {
			t.Fatalf("at %s: low %v threshold %s balance %+v", s.amount, v.State.Low, v.Threshold, v.Balance)
		}
		lowSince = append(lowSince, v.State.LowSince)
	}
	// Staying low keeps the first crossing's time: no second event.
	if !lowSince[2].Equal(lowSince[1]) || lowSince[4].Equal(lowSince[1]) || lowSince[4].IsZero() {
		t.Fatalf("low_since %v", lowSince)
	}
	// A failed check leaves the state alone.
	m.Faults().FailUSSD(modemsim.USSDNetworkTimeout)
	var e ussdErrorBody
	h.do("POST", "/v1/sims/"+iccid+"/balance", struct{}{}, &e)
	var v api.BalanceView
	h.do("GET", "/v1/sims/"+iccid+"/balance", nil, &v)
	if !v.State.Low || v.State.CheckFailures != 1 || v.Balance.Amount != "-5.00" {
		t.Fatalf("after a failed check: %+v %+v", v.State, v.Balance)
	}
}

// Scheduled checks run by themselves, and CheckSoon brings one
// forward.
func TestScheduledAndEarlyBalanceChecks(t *testing.T) {
	h := startUSSDHarness(t, func(cfg *config.Config, _ []*modemsim.Modem) { cfg.Balance.Stagger = 0 }, simSpec{modemsim.Huawei, "25001"})
	m := h.modems[0]
	iccid := m.Config().ICCID
	get := func() api.BalanceView {
		var v api.BalanceView
		h.do("GET", "/v1/sims/"+iccid+"/balance", nil, &v)
		return v
	}
	eventually(t, "the first scheduled check", func() bool { v := get(); return v.Balance != nil && v.Balance.Amount == "151.25" })
	if next := get().State.NextCheck; next.Before(time.Now().Add(999 * time.Hour)) {
		t.Fatalf("next check at %v, want balance.interval later", next)
	}
	m.USSD().SetBalance("7,50")
	h.d.ussd.CheckSoon(iccid)
	eventually(t, "the early check", func() bool { v := get(); return v.Balance != nil && v.Balance.Amount == "7.50" })
}

// A lane paused for a session that then ended without unpausing it (a
// pause set from a list read just before the session closed) sends again
// once the store shows no live session on the modem.
func TestLaneOfAnEndedSessionSendsAgain(t *testing.T) {
	h := startUSSDHarness(t, nil, simSpec{modemsim.Generic, "25001"})
	m := h.modems[0]
	h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
	var open api.USSDAnswer
	h.do("POST", "/v1/modems/"+h.modemID(m)+"/ussd", map[string]string{"code": "*111#"}, &open)
	if !open.Open {
		t.Fatalf("menu not open: %+v", open)
	}
	// The session ends in the store only, as when closeSession lost the
	// race with the reaper; the lane stays paused.
	if _, err := h.d.store.USSD.MoveUSSD(context.Background(), open.SessionID, store.USSDOpen, store.USSDClosed, "test"); err != nil {
		t.Fatal(err)
	}
	h.d.sched.HoldForSession(h.modemID(m), open.SessionID)
	var pinned struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "после сессии", "modem": h.modemID(m)}, &pinned)
	eventually(t, "the pinned message sent", func() bool { return len(m.Record().Sent()) == 1 })
}

// An operator that answers "the balance comes by SMS": the next SMS from its
// service sender is the reading.
func TestBalanceThatComesBySMS(t *testing.T) {
	h := startUSSDHarness(t, func(cfg *config.Config, _ []*modemsim.Modem) {
		cfg.Operators = []config.Operator{{PLMN: []string{"25020"}, BalanceBySMSPatterns: []string{`Popolnite`}, ServiceSenders: []string{"611"}}}
	}, simSpec{modemsim.Generic, "25020"})
	m := h.modems[0]
	type result struct {
		code int
		v    api.BalanceView
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.code = h.do("POST", "/v1/sims/"+m.Config().ICCID+"/balance", struct{}{}, &r.v)
		done <- r
	}()
	if err := h.net.Phones().Send("611", m.Config().MSISDN, "Balans 77,00 r."); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != http.StatusOK || r.v.Balance == nil || r.v.Balance.Amount != "77.00" || r.v.Balance.Source != "sms" {
		t.Fatalf("%d %+v", r.code, r.v.Balance)
	}
}
