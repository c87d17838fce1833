package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// harness is a daemon serving on loopback over simulated modems.
type harness struct {
	t       *testing.T
	net     *modemsim.Network
	modems  []*modemsim.Modem
	url     string
	dataDir string
	d       *Service
	// stopDaemon stops the daemon (as SIGTERM does) and waits for Run to
	// return; the simulated network keeps running until cleanup.
	stopDaemon func()
}

// testLogger logs at debug level to stderr when GSMBRIDGE_TEST_LOG is set;
// nil (the daemon's quiet default) otherwise.
func testLogger() *slog.Logger {
	if os.Getenv("GSMBRIDGE_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func startHarness(t *testing.T, dialects ...modemsim.Dialect) *harness {
	t.Helper()
	return startHarnessWith(t, nil, dialects...)
}

// startHarnessWith lets a test adjust the configuration before the daemon
// starts.
func startHarnessWith(t *testing.T, adjust func(*config.Config), dialects ...modemsim.Dialect) *harness {
	t.Helper()
	return startHarnessNet(t, modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond, ReportDelay: 10 * time.Millisecond}, adjust, dialects...)
}

// startHarnessNet also sets how the simulated network behaves.
func startHarnessNet(t *testing.T, opts modemsim.NetworkOptions, adjust func(*config.Config), dialects ...modemsim.Dialect) *harness {
	t.Helper()
	var prepare func(*config.Config, *modemsim.Network, []*modemsim.Modem)
	if adjust != nil {
		prepare = func(c *config.Config, _ *modemsim.Network, _ []*modemsim.Modem) { adjust(c) }
	}
	return startHarnessPrepared(t, opts, prepare, dialects...)
}

// startHarnessPrepared lets a test set up the simulated modems (a SIM PIN,
// a fault) before the daemon first opens them.
func startHarnessPrepared(t *testing.T, opts modemsim.NetworkOptions, prepare func(*config.Config, *modemsim.Network, []*modemsim.Modem), dialects ...modemsim.Dialect) *harness {
	t.Helper()
	var mcs []modemsim.ModemConfig
	for _, d := range dialects {
		mcs = append(mcs, modemsim.ModemConfig{Dialect: d})
	}
	return startHarnessModems(t, opts, prepare, mcs...)
}

// startHarnessModems builds the simulated modems from full configurations.
func startHarnessModems(t *testing.T, opts modemsim.NetworkOptions, prepare func(*config.Config, *modemsim.Network, []*modemsim.Modem), modems ...modemsim.ModemConfig) *harness {
	t.Helper()
	n, err := modemsim.NewNetwork(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, net: n}
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = t.TempDir()
	h.dataDir = cfg.DataDir
	cfg.Health.IdleCheckAfter = 300 * time.Millisecond
	cfg.Receive.PollInterval = time.Hour // the health check, not a sweep, must restore receiving
	for _, mc := range modems {
		m, err := n.AddModem(mc)
		if err != nil {
			n.Close()
			t.Fatal(err)
		}
		h.modems = append(h.modems, m)
		cfg.Modems = append(cfg.Modems, config.Modem{Port: m.Path(), Baud: 115200})
	}
	if prepare != nil {
		prepare(cfg, n, h.modems)
	}
	// The idle check comes once a "minute" of the command budget, as with
	// the defaults (60s and 6 a minute).
	d, err := New(cfg, Options{atTimeout: time.Second, reopenMin: 50 * time.Millisecond, reopenMax: 500 * time.Millisecond,
		budgetWindow: cfg.Health.IdleCheckAfter, Logger: testLogger(), Observe: checkAnswers(t)})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	h.d = d
	h.serve(d, n)
	return h
}

// serve runs d on a loopback port until the test ends (or stopDaemon), then
// closes the simulated network n.
func (h *harness) serve(d *Service, n *modemsim.Network) {
	t := h.t
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, ln) }()
	var once sync.Once
	h.stopDaemon = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("daemon Run: %v", err)
			}
			http.DefaultClient.CloseIdleConnections()
		})
	}
	t.Cleanup(func() {
		h.stopDaemon()
		n.Close()
	})
}

func (h *harness) do(method, path string, body any, out any) int {
	h.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, h.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			h.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// eventually polls cond until it holds or the deadline passes; it waits on
// the outcome itself, not on a guess of how long things take.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventuallyWithin(t, 20*time.Second, what, cond)
}

// eventuallyWithin is eventually for what takes many AT timeouts.
func eventuallyWithin(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) waitReady(n int) {
	eventually(h.t, fmt.Sprintf("%d modems ready", n), func() bool {
		var out struct{ Modems []ModemStatus }
		h.do("GET", "/v1/modems", nil, &out)
		ready := 0
		for _, m := range out.Modems {
			if m.State == StateReady {
				ready++
			}
		}
		return ready == n
	})
}

func TestCyrillicLongSMSReachesTheCustomerExactly(t *testing.T) {
	for _, d := range []modemsim.Dialect{modemsim.Generic, modemsim.Huawei, modemsim.SIMCom, modemsim.Quectel} {
		t.Run(string(d), func(t *testing.T) {
			h := startHarness(t, d)
			h.waitReady(1)
			customer := "+79161234567"
			h.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
			text := strings.Repeat("Съешь же ещё этих мягких французских булок. ", 7)[:0]
			for len([]rune(text)) < 300 {
				text += "Съешь же ещё этих мягких французских булок, да выпей чаю. "
			}
			text = string([]rune(text)[:300])
			var acc struct {
				ID    string
				State string
				Parts int
			}
			if code := h.do("POST", "/v1/messages", map[string]any{"to": "8 916 123-45-67", "text": text}, &acc); code != http.StatusAccepted {
				t.Fatalf("POST: %d", code)
			}
			if acc.Parts != 5 || acc.State != "queued" {
				t.Fatalf("accepted %+v, want 5 parts queued", acc)
			}
			var m api.Message
			eventually(t, "message sent", func() bool {
				h.do("GET", "/v1/messages/"+acc.ID, nil, &m)
				return m.State == store.Sent
			})
			eventually(t, "customer got the message", func() bool { return len(h.net.Phones().Inbox(customer)) == 1 })
			got := h.net.Phones().Inbox(customer)[0]
			if got.Text != text {
				t.Fatalf("customer got %q\nwant %q", got.Text, text)
			}
			if sent := h.modems[0].Record().Sent(); len(sent) != 5 {
				t.Fatalf("modem accepted %d PDUs, want 5", len(sent))
			}
		})
	}
}

func TestBadRequestsChangeNothing(t *testing.T) {
	h := startHarness(t, modemsim.Generic)
	h.waitReady(1)
	cases := []struct {
		body  any
		code  int
		field string
	}{
		{map[string]any{"text": "x"}, 400, "to"},
		{map[string]any{"to": "+7916abc", "text": "x"}, 400, "to"},
		{map[string]any{"to": "+79161234567"}, 400, "text"},
		{map[string]any{"to": "+79161234567", "text": "x", "ttl": "100h"}, 400, "ttl"},
		{map[string]any{"to": "+79161234567", "text": "x", "colour": "red"}, 400, "colour"},
		{map[string]any{"to": "+79161234567", "text": "x", "modem": "nope"}, 422, "modem"},
		{map[string]any{"to": "+79161234567", "text": "x", "operator": "25099"}, 422, "operator"},
		{map[string]any{"to": "+79161234567", "text": "x", "operator": "25;01"}, 400, "operator"},
	}
	for _, c := range cases {
		var e struct {
			Error struct{ Code, Message, Field string }
		}
		code := h.do("POST", "/v1/messages", c.body, &e)
		if code != c.code || e.Error.Field != c.field {
			t.Errorf("%v: %d field %q (%s), want %d field %q", c.body, code, e.Error.Field, e.Error.Message, c.code, c.field)
		}
	}
	var list struct{ Messages []api.Message }
	h.do("GET", "/v1/messages", nil, &list)
	if len(list.Messages) != 0 {
		t.Fatalf("bad requests stored %d messages", len(list.Messages))
	}
	if n := len(h.modems[0].Record().Sent()); n != 0 {
		t.Fatalf("bad requests reached the modem: %d sends", n)
	}
}

func TestDeliveryReportMarksMessageDelivered(t *testing.T) {
	for _, d := range []modemsim.Dialect{modemsim.Generic, modemsim.Huawei, modemsim.SIMCom, modemsim.Quectel} {
		t.Run(string(d), func(t *testing.T) {
			h := startHarness(t, d)
			h.waitReady(1)
			h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
			var acc struct{ ID string }
			h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "Код 1234", "report": true}, &acc)
			var m api.Message
			eventually(t, "message delivered", func() bool {
				h.do("GET", "/v1/messages/"+acc.ID, nil, &m)
				return m.State == store.Delivered
			})
			if m.PartList[0].ReportStatus == nil || *m.PartList[0].ReportStatus != 0 {
				t.Fatalf("part report status %v", m.PartList[0].ReportStatus)
			}
		})
	}
}

type inboxPage struct {
	Messages []api.InboxMessage
}

func TestRepliesReachTheInboxAlsoAfterAModemReboot(t *testing.T) {
	for _, d := range []modemsim.Dialect{modemsim.Generic, modemsim.Huawei, modemsim.SIMCom, modemsim.Quectel} {
		t.Run(string(d), func(t *testing.T) {
			h := startHarness(t, d)
			h.waitReady(1)
			own := h.modems[0].Config().MSISDN
			if err := h.net.Phones().Send("+79161234567", own, "Да"); err != nil {
				t.Fatal(err)
			}
			var page inboxPage
			eventually(t, "reply in the inbox", func() bool {
				h.do("GET", "/v1/inbox", nil, &page)
				return len(page.Messages) == 1
			})
			if got := page.Messages[0]; got.From != "+79161234567" || got.Text != "Да" || !got.Complete {
				t.Fatalf("inbox: %+v", got)
			}
			// A reboot drops +CNMI; the next reply must still arrive.
			h.modems[0].Reboot()
			long := strings.Repeat("Подтверждаю платёж. ", 10)
			if err := h.net.Phones().Send("+79161234567", own, long); err != nil {
				t.Fatal(err)
			}
			eventually(t, "second reply after reboot", func() bool {
				h.do("GET", "/v1/inbox", nil, &page)
				return len(page.Messages) == 2
			})
			if got := page.Messages[1]; got.Text != long || got.Parts < 2 {
				t.Fatalf("second reply: %+v", got)
			}
		})
	}
}

func TestStopLetsAnInFlightSendFinish(t *testing.T) {
	h := startHarness(t, modemsim.Generic)
	h.waitReady(1)
	h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
	h.modems[0].Faults().SetLatency("AT+CMGS", 400*time.Millisecond)
	var acc struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "Платёж 42"}, &acc)
	eventually(t, "send under way", func() bool {
		var m api.Message
		h.do("GET", "/v1/messages/"+acc.ID, nil, &m)
		return m.State == store.Sending
	})
	h.stopDaemon()

	st, err := store.Open(h.dataDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := st.Messages.GetMessage(context.Background(), acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.State != store.Sent {
		t.Fatalf("after a graceful stop the message is %s, want sent (a deploy must create no unknown messages)", m.State)
	}
	if n := len(h.modems[0].Record().Sent()); n != 1 {
		t.Fatalf("modem took %d PDUs, want 1", n)
	}
}

func TestFailingSIMTurnsSuspectAndWorkMovesToAnother(t *testing.T) {
	h := startHarnessWith(t, func(c *config.Config) {
		c.Send.SuspectAfter = 2
		c.Send.MaxAttempts = 1
		c.Send.SuspectCooldown = time.Hour
	}, modemsim.Generic, modemsim.Generic)
	h.waitReady(2)
	bad := h.modems[0]
	bad.Faults().FailSends(100, 38)
	h.net.Phones().Add("+79160000001", modemsim.PhoneRule{Never: true})
	h.net.Phones().Add("+79160000002", modemsim.PhoneRule{Never: true})
	h.net.Phones().Add("+79160000003", modemsim.PhoneRule{Never: true})
	badID := ""
	var modems struct{ Modems []ModemStatus }
	h.do("GET", "/v1/modems", nil, &modems)
	for _, m := range modems.Modems {
		if m.Port == bad.Path() {
			badID = m.ID
		}
	}
	for _, to := range []string{"+79160000001", "+79160000002"} {
		var acc struct{ ID string }
		h.do("POST", "/v1/messages", map[string]any{"to": to, "text": "x", "modem": badID}, &acc)
		eventually(t, "pinned send fails", func() bool {
			var m api.Message
			h.do("GET", "/v1/messages/"+acc.ID, nil, &m)
			return m.State == store.Failed
		})
	}
	var sims struct{ SIMs []api.SIM }
	eventually(t, "SIM suspect", func() bool {
		h.do("GET", "/v1/sims", nil, &sims)
		for _, s := range sims.SIMs {
			if s.Modem == badID && s.State == store.SIMSuspect {
				return true
			}
		}
		return false
	})
	before := len(bad.Record().Sent())
	var acc struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": "+79160000003", "text": "y"}, &acc)
	var m api.Message
	eventually(t, "unpinned message sent through the healthy SIM", func() bool {
		h.do("GET", "/v1/messages/"+acc.ID, nil, &m)
		return m.State == store.Sent
	})
	if m.Modem == badID || len(bad.Record().Sent()) != before {
		t.Fatalf("message went through the suspect SIM (%s)", m.Modem)
	}
	var iccid string
	for _, s := range sims.SIMs {
		if s.Modem == badID {
			iccid = s.ICCID
		}
	}
	var resumed api.SIM
	if code := h.do("POST", "/v1/sims/"+iccid+"/resume", nil, &resumed); code != 200 || resumed.State != store.SIMActive {
		t.Fatalf("resume: %d %+v", code, resumed)
	}
}

// eventTypes lists the types of the events logged about one object.
func (h *harness) eventTypes(kind, id string) []string {
	rows, err := h.d.store.Events.EventTypes(context.Background(), kind, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return rows
}

func TestSIMSwapIsDetectedAndAnnounced(t *testing.T) {
	h := startHarness(t, modemsim.Quectel)
	h.waitReady(1)
	old := h.modems[0].Config().ICCID
	h.modems[0].SIM().Insert("8970120000000000042", "250200000000042", "+79520000042")
	h.modems[0].Reboot()
	var sims struct{ SIMs []api.SIM }
	eventually(t, "new SIM seen in the modem", func() bool {
		h.do("GET", "/v1/sims", nil, &sims)
		for _, s := range sims.SIMs {
			if s.ICCID == "8970120000000000042" && s.Modem != "" {
				return true
			}
		}
		return false
	})
	if got := h.eventTypes("sim", "8970120000000000042"); fmt.Sprint(got) != "[sim.changed]" {
		t.Fatalf("events of the new SIM: %v (old SIM %s)", got, old)
	}
	var modems struct{ Modems []ModemStatus }
	h.do("GET", "/v1/modems", nil, &modems)
	if types := h.eventTypes("modem", modems.Modems[0].ID); len(types) < 2 || types[0] != "modem.up" {
		t.Fatalf("modem events %v", types)
	}
}

func TestMissingDeliveryReportIsFlaggedAfterTheWait(t *testing.T) {
	// The network takes an hour to report; the daemon waits 50 ms.
	h := startHarnessNet(t, modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond, ReportDelay: time.Hour},
		func(c *config.Config) { c.Send.ReportWait = 50 * time.Millisecond }, modemsim.Generic)
	h.waitReady(1)
	h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
	var acc struct{ ID string }
	h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "x", "report": true}, &acc)
	var m api.Message
	eventually(t, "report overdue", func() bool {
		h.do("GET", "/v1/messages/"+acc.ID, nil, &m)
		return m.ReportOverdue
	})
	if m.State != store.Sent {
		t.Fatalf("state %s, want sent", m.State)
	}
}
