package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gsmbridge/gsmbridge/internal/bench"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// TestConfirmationsThroughTheBinary runs the payment core's flow against
// `gsmbridge serve` as its own process: customers' phones answer, stay
// silent or cancel; the daemon is killed with confirmations in every state
// and a reply arrives while it is down; and every transition must reach both
// the event log and a webhook receiver.
func TestConfirmationsThroughTheBinary(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	bin := buildGsmbridge(t)
	t.Run("flow, restarts and webhooks", func(t *testing.T) { testConfirmationFlow(t, bin) })
}

const confirmWebhookSecret = "confirm-test-secret-0123"

func testConfirmationFlow(t *testing.T, bin string) {
	r := newConfirmBinaryRig(t, bin)
	d := r.start()

	// Decided while the daemon runs: a reply, a cancel word, silence, and
	// two payments of one customer in flight at once.
	answers := "+79161000001"
	cancels := "+79161000002"
	silent := "+79161000003"
	twice := "+79161000004"
	r.network.Phones().Add(answers, modemsim.PhoneRule{Reply: "Да, подтверждаю", After: 200 * time.Millisecond})
	r.network.Phones().Add(cancels, modemsim.PhoneRule{Reply: " 0 ", After: 200 * time.Millisecond})
	r.network.Phones().Add(silent, modemsim.PhoneRule{Never: true})
	r.network.Phones().Add(twice, modemsim.PhoneRule{Match: "D-1", Reply: "ok", After: 300 * time.Millisecond})
	r.network.Phones().Add(twice, modemsim.PhoneRule{Match: "D-2", Reply: "0", After: 300 * time.Millisecond})
	r.create(d, "pay-a", answers, "A-1", "30m")
	r.create(d, "pay-b", cancels, "B-1", "30m")
	r.create(d, "pay-c", silent, "C-1", "3s")
	r.create(d, "pay-d1", twice, "D-1", "30m")
	r.create(d, "pay-d2", twice, "D-2", "30m")
	r.waitState(d, "pay-a", "confirmed")
	r.waitState(d, "pay-b", "cancelled")
	r.waitState(d, "pay-c", "expired")
	d1 := r.waitState(d, "pay-d1", "confirmed")
	d2 := r.waitState(d, "pay-d2", "cancelled")
	if d1.ICCID == d2.ICCID {
		t.Errorf("both payments of one customer went out through SIM %s", d1.ICCID)
	}
	for _, want := range []struct{ phone, text string }{
		{answers, "Платёж A-1: 1 500,00 руб. Любой ответ - да, 0 - отмена"},
		{silent, "Платёж C-1: 1 500,00 руб. Любой ответ - да, 0 - отмена"},
	} {
		if got := r.network.Phones().Inbox(want.phone); len(got) != 1 || got[0].Text != want.text {
			t.Errorf("%s got %+v, want one SMS %q", want.phone, got, want.text)
		}
	}

	// Now confirmations in every state when the daemon dies: sent on both
	// SIMs, queued behind them (one SIM per pending confirmation of a
	// customer), failed unsent, and the confirmed, cancelled and expired
	// ones above.
	waits := "+79161000005"
	repliesWhileDown := "+79161000006"
	deadlineWhileDown := "+79161000007"
	for _, p := range []string{waits, repliesWhileDown, deadlineWhileDown} {
		r.network.Phones().Add(p, modemsim.PhoneRule{Never: true})
	}
	r.create(d, "pay-e1", waits, "E-1", "30m")
	r.create(d, "pay-e2", waits, "E-2", "30m")
	r.waitState(d, "pay-e1", "sent")
	r.waitState(d, "pay-e2", "sent")
	r.create(d, "pay-e3", waits, "E-3", "30m")
	r.create(d, "pay-e4", waits, "E-4", "1s")
	if e4 := r.waitState(d, "pay-e4", "failed"); e4.Reason != "expired before the SMS could be sent" {
		t.Errorf("pay-e4 failed for %q", e4.Reason)
	}
	r.create(d, "pay-f", repliesWhileDown, "F-1", "6s")
	r.create(d, "pay-g", deadlineWhileDown, "G-1", "6s")
	f := r.waitState(d, "pay-f", "sent")
	g := r.waitState(d, "pay-g", "sent")
	before := map[string]confirmationView{}
	for _, id := range []string{"pay-a", "pay-b", "pay-c", "pay-e1", "pay-e2", "pay-e3", "pay-e4"} {
		before[id] = r.get(d, id)
	}
	if before["pay-e3"].State != "queued" {
		t.Fatalf("pay-e3 is %s; both SIMs hold a pending confirmation of its customer", before["pay-e3"].State)
	}
	// And one caught between its PDU and the modem's answer.
	caught := "+79161000010"
	r.network.Phones().Add(caught, modemsim.PhoneRule{Never: true})
	for _, m := range r.modems {
		m.Faults().SetLatency("AT+CMGS", 3*time.Second)
	}
	r.create(d, "pay-h", caught, "H-1", "30m")
	crashWait(t, "pay-h's PDU on a modem's wire", func() bool { return r.sentTimes("H-1") == 1 })

	if err := syscall.Kill(d.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Wait(10 * time.Second); !ok {
		t.Fatal("daemon still running after SIGKILL")
	}
	if left := time.Until(f.ExpiresAt); left < time.Second {
		t.Fatalf("the daemon died only %v before pay-f's deadline; the test needs time for a reply while it is down", left)
	}
	for _, m := range r.modems {
		m.Faults().SetLatency("AT+CMGS", 0)
	}
	if err := r.network.Phones().Send(repliesWhileDown, r.msisdn(f.ICCID), "да"); err != nil {
		t.Fatal(err)
	}
	// Both deadlines passing while nobody reads the SIMs is the point, so
	// here the test waits for the clock itself.
	<-time.After(time.Until(g.ExpiresAt.Add(300 * time.Millisecond)))
	d = r.start()
	defer d.Stop(15 * time.Second)

	r.waitState(d, "pay-f", "confirmed")
	r.waitState(d, "pay-g", "expired")
	// Its outcome is unknown, so it is not sent again, and the customer
	// may well have read it: a reply still counts.
	h := r.waitState(d, "pay-h", "sent")
	var hm struct{ State string }
	if r.client.do("GET", d.URL+"/v1/messages/"+h.MessageID, nil, &hm); hm.State != "unknown" {
		t.Errorf("pay-h's SMS is %q after the kill, want unknown", hm.State)
	}
	if err := r.network.Phones().Send(caught, r.msisdn(h.ICCID), "да"); err != nil {
		t.Fatal(err)
	}
	r.waitState(d, "pay-h", "confirmed")
	if n := r.sentTimes("H-1"); n != 1 {
		t.Errorf("pay-h's SMS went out %d times", n)
	}
	// A second reply to a decided payment and a stranger's "0" to a SIM
	// with a pending one are kept and change nothing.
	e1 := before["pay-e1"]
	stranger := "+79169999999"
	if err := r.network.Phones().Send(answers, r.msisdn(before["pay-a"].ICCID), "0"); err != nil {
		t.Fatal(err)
	}
	if err := r.network.Phones().Send(stranger, r.msisdn(e1.ICCID), "0"); err != nil {
		t.Fatal(err)
	}
	r.waitInbox(d, answers, "0")
	r.waitInbox(d, stranger, "0")
	for id, was := range before {
		if now := r.get(d, id); now.State != was.State || now.Version != was.Version {
			t.Errorf("%s was %s v%d before the restart, is %s v%d", id, was.State, was.Version, now.State, now.Version)
		}
	}
	// The queued one goes out through the first SIM its customer frees.
	if err := r.network.Phones().Send(waits, r.msisdn(e1.ICCID), "ок"); err != nil {
		t.Fatal(err)
	}
	r.waitState(d, "pay-e1", "confirmed")
	if e3 := r.waitState(d, "pay-e3", "sent"); e3.ICCID != e1.ICCID {
		t.Errorf("pay-e3 went out through %s, not the SIM pay-e1 freed (%s)", e3.ICCID, e1.ICCID)
	}
	var cancelled confirmationView
	if code := r.client.do("DELETE", d.URL+"/v1/confirmations/pay-e2", nil, &cancelled); code != 200 || cancelled.State != "cancelled" {
		t.Errorf("DELETE pay-e2: %d %+v", code, cancelled)
	}
	crashWait(t, "the cancel notice on the customer's phone", func() bool {
		for _, m := range r.network.Phones().Inbox(waits) {
			if m.Text == "Платёж E-2 отменён." && m.From == r.msisdn(cancelled.ICCID) {
				return true
			}
		}
		return false
	})
	if err := r.network.Phones().Send(waits, r.msisdn(e1.ICCID), "0"); err != nil {
		t.Fatal(err)
	}
	r.waitState(d, "pay-e3", "cancelled")

	// The testers' verb waits for the answer and says it with its exit code.
	r.network.Phones().Add("+79161000008", modemsim.PhoneRule{Reply: "да", After: 100 * time.Millisecond})
	r.network.Phones().Add("+79161000009", modemsim.PhoneRule{Reply: "0", After: 100 * time.Millisecond})
	for _, tc := range []struct {
		phone, id, wantOut string
		wantExit           int
	}{
		{"89161000008", "cli-yes", "cli-yes: confirmed", 0},
		{"89161000009", "cli-no", "payment cli-no not confirmed: cancelled", 1},
	} {
		cmd := exec.Command(r.bin, "confirm", tc.phone, "--txn", "CLI-1", "--amount", "99.90", "--id", tc.id, "--wait")
		cmd.Env = append(os.Environ(), "GSMBRIDGE_ADDR="+d.URL)
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != tc.wantExit || !strings.Contains(string(out), tc.wantOut) {
			t.Errorf("gsmbridge confirm %s: exit %d (%v), want %d; output:\n%s", tc.phone, code, err, tc.wantExit, out)
		}
	}

	want := map[string][]string{
		"pay-a":   {"queued", "sent", "confirmed"},
		"pay-b":   {"queued", "sent", "cancelled"},
		"pay-c":   {"queued", "sent", "expired"},
		"pay-d1":  {"queued", "sent", "confirmed"},
		"pay-d2":  {"queued", "sent", "cancelled"},
		"pay-e1":  {"queued", "sent", "confirmed"},
		"pay-e2":  {"queued", "sent", "cancelled"},
		"pay-e3":  {"queued", "sent", "cancelled"},
		"pay-e4":  {"queued", "failed"},
		"pay-f":   {"queued", "sent", "confirmed"},
		"pay-g":   {"queued", "sent", "expired"},
		"pay-h":   {"queued", "sent", "confirmed"},
		"cli-yes": {"queued", "sent", "confirmed"},
		"cli-no":  {"queued", "sent", "cancelled"},
	}
	logged := r.eventLog(d)
	if !equalTransitions(logged, want) {
		t.Errorf("event log: %v\nwant %v", logged, want)
	}
	crashWait(t, "every transition at the webhook", func() bool { return equalTransitions(r.hook.transitions(), want) })
	if bad := r.hook.badSignatures(); bad != 0 {
		t.Errorf("%d webhook deliveries had a bad signature", bad)
	}
}

// confirmationView is a confirmation as the API shows it.
type confirmationView struct {
	ID        string
	State     string
	Version   int
	Reason    string
	ICCID     string    `json:"iccid"`
	MessageID string    `json:"message_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

type confirmBinaryRig struct {
	t       *testing.T
	bin     string
	dir     string
	cfgPath string
	network *modemsim.Network
	modems  []*modemsim.Modem
	client  *crashClient
	hook    *confirmationHook
}

func newConfirmBinaryRig(t *testing.T, bin string) *confirmBinaryRig {
	t.Helper()
	network, err := modemsim.NewNetwork(modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond, ReportDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { network.Close() })
	r := &confirmBinaryRig{t: t, bin: bin, dir: t.TempDir(), network: network, client: newCrashClient(), hook: &confirmationHook{}}
	t.Cleanup(r.client.close)
	hookServer := httptest.NewServer(r.hook)
	t.Cleanup(hookServer.Close)
	var ports []string
	for range 2 {
		m, err := network.AddModem(modemsim.ModemConfig{Dialect: modemsim.Generic, PLMN: "25001", NoisePeriod: -1})
		if err != nil {
			t.Fatal(err)
		}
		r.modems = append(r.modems, m)
		ports = append(ports, m.Path())
	}
	r.cfgPath = filepath.Join(r.dir, "gsmbridge.yaml")
	extra := map[string]any{
		"confirmations": map[string]any{"expiry_grace": "300ms", "cancel_notice": true},
		"webhooks": []map[string]any{{"url": hookServer.URL + "/hook", "secrets": []string{confirmWebhookSecret},
			"events": []string{"confirmation.*"}, "timeout": "5s"}},
		"webhook_defaults": map[string]string{"retry_initial": "50ms", "retry_max": "200ms"},
	}
	if err := bench.WriteConfig(r.cfgPath, filepath.Join(r.dir, "data"), ports, r.modems, extra); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *confirmBinaryRig) start() *bench.Daemon {
	cr := crashRig{t: r.t, bin: r.bin, dir: r.dir, cfgPath: r.cfgPath, modems: r.modems}
	return cr.start()
}

func (r *confirmBinaryRig) create(d *bench.Daemon, id, phone, txn, ttl string) {
	r.t.Helper()
	body := map[string]string{"id": id, "phone": phone, "txn": txn, "amount": "1500.00", "currency": "RUB", "ttl": ttl}
	var c confirmationView
	if code := r.client.do("POST", d.URL+"/v1/confirmations", body, &c); code != http.StatusAccepted || c.State != "queued" {
		r.t.Fatalf("POST confirmation %s: %d %+v", id, code, c)
	}
}

func (r *confirmBinaryRig) get(d *bench.Daemon, id string) confirmationView {
	r.t.Helper()
	var c confirmationView
	if code := r.client.do("GET", d.URL+"/v1/confirmations/"+id, nil, &c); code != http.StatusOK {
		r.t.Fatalf("GET confirmation %s: %d", id, code)
	}
	return c
}

// waitState waits for confirmation id to reach state, failing at once if
// it ends in another final state.
func (r *confirmBinaryRig) waitState(d *bench.Daemon, id, state string) confirmationView {
	r.t.Helper()
	var c confirmationView
	crashWait(r.t, id+" "+state, func() bool {
		c = r.get(d, id)
		if c.State != state && !slices.Contains([]string{"queued", "sent"}, c.State) {
			r.t.Fatalf("%s became %s (%s), want %s\n%s", id, c.State, c.Reason, state, d.LogTail())
		}
		return c.State == state
	})
	return c
}

// waitInbox waits until the daemon has stored an SMS from phone with text.
func (r *confirmBinaryRig) waitInbox(d *bench.Daemon, phone, text string) {
	r.t.Helper()
	crashWait(r.t, "an SMS from "+phone+" in the inbox", func() bool {
		var page struct {
			Messages []struct{ From, Text string }
		}
		r.client.do("GET", d.URL+"/v1/inbox?limit=1000", nil, &page)
		for _, m := range page.Messages {
			if m.From == phone && m.Text == text {
				return true
			}
		}
		return false
	})
}

// sentTimes counts the PDUs of confirmation txn on all modems' wires.
func (r *confirmBinaryRig) sentTimes(txn string) int {
	n := 0
	for _, m := range r.modems {
		for _, s := range m.Record().Sent() {
			if strings.Contains(s.Text, "Платёж "+txn+":") {
				n++
			}
		}
	}
	return n
}

// msisdn is the number of the simulated SIM iccid, where customers reply.
func (r *confirmBinaryRig) msisdn(iccid string) string {
	r.t.Helper()
	for _, m := range r.modems {
		if m.Config().ICCID == iccid {
			return m.Config().MSISDN
		}
	}
	r.t.Fatalf("no simulated SIM %q", iccid)
	return ""
}

// eventLog reads the confirmation transitions from GET /v1/events.
func (r *confirmBinaryRig) eventLog(d *bench.Daemon) map[string][]string {
	r.t.Helper()
	var all []webhookEvent
	for after := int64(0); ; {
		var page struct {
			Events    []webhookEvent
			NextAfter int64 `json:"next_after"`
			More      bool
		}
		if code := r.client.do("GET", fmt.Sprintf("%s/v1/events?type=confirmation.*&limit=1000&after=%d", d.URL, after), nil, &page); code != 200 {
			r.t.Fatalf("GET /v1/events: %d", code)
		}
		all = append(all, page.Events...)
		if !page.More {
			break
		}
		after = page.NextAfter
	}
	return transitionsOf(all)
}

// webhookEvent is the part of an event these tests read.
type webhookEvent struct {
	ID     int64
	Type   string
	Object struct {
		Kind string
		ID   string
		Seq  int
	}
}

// transitionsOf lists each confirmation's states in the order of its seq.
func transitionsOf(events []webhookEvent) map[string][]string {
	slices.SortFunc(events, func(a, b webhookEvent) int { return a.Object.Seq - b.Object.Seq })
	out := map[string][]string{}
	for _, ev := range events {
		out[ev.Object.ID] = append(out[ev.Object.ID], strings.TrimPrefix(ev.Type, "confirmation."))
	}
	return out
}

func equalTransitions(got, want map[string][]string) bool {
	if len(got) != len(want) {
		return false
	}
	for id, states := range want {
		if !slices.Equal(got[id], states) {
			return false
		}
	}
	return true
}

// confirmationHook is the payment core's webhook endpoint: it checks each
// delivery's signature and keeps every event once, by its id, as a receiver
// of at-least-once deliveries must.
type confirmationHook struct {
	mu     sync.Mutex
	events map[int64]webhookEvent
	bad    int
}

func (h *confirmationHook) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	mac := hmac.New(sha256.New, []byte(confirmWebhookSecret))
	fmt.Fprintf(mac, "%s.%s", req.Header.Get("X-Gsmbridge-Timestamp"), body)
	var ev webhookEvent
	h.mu.Lock()
	defer h.mu.Unlock()
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(req.Header.Get("X-Gsmbridge-Signature"))) ||
		json.Unmarshal(body, &ev) != nil || req.Header.Get("X-Gsmbridge-Event") != ev.Type {
		h.bad++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if h.events == nil {
		h.events = map[int64]webhookEvent{}
	}
	h.events[ev.ID] = ev
}

func (h *confirmationHook) transitions() map[string][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var all []webhookEvent
	for _, ev := range h.events {
		all = append(all, ev)
	}
	return transitionsOf(all)
}

func (h *confirmationHook) badSignatures() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bad
}
