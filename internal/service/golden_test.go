package service

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of TestGoldenTour")

// TestGoldenTour pins the exact JSON of every answer and event shape the API
// serves: a scripted tour over one simulated modem, its bodies written one
// after the other with ids and times normalised. A change in encoding (a
// field renamed, reordered, gaining or losing omitempty) shows here as a
// diff; run with -update only when the change is meant.
func TestGoldenTour(t *testing.T) {
	const phone, quiet = "+79160000001", "+79160000002"
	failing := newReceiver(t, http.StatusInternalServerError, "secret-0123456789abcdef")
	h := startUSSDHarness(t, func(cfg *config.Config, ms []*modemsim.Modem) {
		cfg.Operators = []config.Operator{{PLMN: []string{"25001"}, Limits: config.Limits{PerMinute: -1, PerHour: -1, PerDay: -1}}}
		cfg.Confirmations.ExpiryGrace = 300 * time.Millisecond
		cfg.SIMs = map[string]config.SIM{ms[0].Config().ICCID: {BalanceLow: "200"}}
		cfg.Webhooks = []config.Webhook{{URL: failing.srv.URL, Secrets: []string{"secret-0123456789abcdef"},
			Events: []string{"sms.received"}, Timeout: time.Second}}
		cfg.WebhookDefaults = config.WebhookDefaults{RetryInitial: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond, GiveUpAfter: 300 * time.Millisecond}
	}, simSpec{modemsim.Generic, "25001"})
	h.net.Phones().Add(phone, modemsim.PhoneRule{Reply: "Да"})
	h.net.Phones().Add(quiet, modemsim.PhoneRule{Never: true})
	m := h.modems[0]
	modem, iccid := h.modemID(m), m.Config().ICCID
	g := &golden{t: t, h: h}

	g.get("healthz", "/healthz")
	g.get("modems", "/v1/modems")
	g.get("modem", "/v1/modems/"+modem)
	g.get("sims", "/v1/sims")

	// A message goes out, is delivered, and cannot be cancelled any more.
	var acc struct{ ID string }
	g.call("message accepted", "POST", "/v1/messages", `{"to":"`+quiet+`","text":"Hello","report":true,"reference":"r-1"}`, &acc)
	eventually(t, "message delivered", func() bool { return g.state("/v1/messages/"+acc.ID) == "delivered" })
	g.get("message delivered", "/v1/messages/"+acc.ID)
	g.call("message cancel refused", "DELETE", "/v1/messages/"+acc.ID, "", nil)

	// The network refuses one for good: the modem's code is kept.
	m.Faults().FailCommand("AT+CMGS", 1, "+CMS ERROR: 21")
	g.call("message refused accepted", "POST", "/v1/messages", `{"to":"`+quiet+`","text":"Refused"}`, &acc)
	eventually(t, "message failed", func() bool { return g.state("/v1/messages/"+acc.ID) == "failed" })
	g.get("message failed", "/v1/messages/"+acc.ID)

	// A confirmation the customer answers.
	var conf struct{ ID string }
	g.call("confirmation accepted", "POST", "/v1/confirmations", `{"id":"pay-1","phone":"`+phone+`","txn":"12345","amount":"1500.00","currency":"RUB"}`, &conf)
	eventually(t, "confirmation confirmed", func() bool { return g.state("/v1/confirmations/"+conf.ID) == "confirmed" })
	g.get("confirmation confirmed", "/v1/confirmations/"+conf.ID+"?wait=1s&version=2")
	g.call("confirmation cancel refused", "DELETE", "/v1/confirmations/"+conf.ID, "", nil)
	g.get("confirmations", "/v1/confirmations")
	g.call("quote", "POST", "/v1/quote", `{"customer_operator":"25001","amount":"1500.00","phone":"`+phone+`"}`, nil)
	eventually(t, "the reply in the inbox", func() bool { return g.count("/v1/inbox", `"id":`) >= 1 })
	var inbox struct{ Messages []struct{ ID int64 } }
	g.call("inbox", "GET", "/v1/inbox", "", &inbox)
	g.get("inbox message", fmt.Sprintf("/v1/inbox/%d", inbox.Messages[0].ID))

	// While a USSD menu is open the modem sends nothing: a message and a
	// confirmation wait with a hold, and are cancelled.
	var sess struct {
		SessionID string `json:"session_id"`
	}
	g.call("ussd menu", "POST", "/v1/modems/"+modem+"/ussd", `{"code":"*111#"}`, &sess)
	g.call("message held", "POST", "/v1/messages", `{"to":"`+quiet+`","text":"Later"}`, &acc)
	g.get("message with hold", "/v1/messages/"+acc.ID)
	g.get("messages", "/v1/messages")
	g.call("message cancelled", "DELETE", "/v1/messages/"+acc.ID, "", nil)
	g.call("confirmation held", "POST", "/v1/confirmations", `{"id":"pay-2","phone":"`+quiet+`","txn":"777","amount":"10.00","currency":"RUB"}`, &conf)
	g.call("confirmation cancelled", "DELETE", "/v1/confirmations/"+conf.ID, "", nil)
	g.call("ussd answer", "POST", "/v1/ussd/"+sess.SessionID+"/reply", `{"text":"1"}`, nil)
	g.call("ussd reply refused", "POST", "/v1/ussd/"+sess.SessionID+"/reply", `{"text":"1"}`, nil)
	g.call("ussd menu again", "POST", "/v1/modems/"+modem+"/ussd", `{"code":"*111#"}`, &sess)
	g.call("ussd busy", "POST", "/v1/sims/"+iccid+"/balance", `{}`, nil)
	g.call("ussd ended", "DELETE", "/v1/ussd/"+sess.SessionID, "", nil)
	g.get("balance check by GET refused", "/v1/sims/"+iccid+"/balance?refresh=true")
	// The balance loop plans the next check on its own tick, before or after
	// the check answers: the answer is pinned without it, the reading after
	// with it.
	g.strip = regexp.MustCompile(`"next_check":"<time>",`)
	g.call("balance checked", "POST", "/v1/sims/"+iccid+"/balance", `{}`, nil)
	g.strip = nil
	eventually(t, "the next balance check planned", func() bool {
		return g.count("/v1/modems/"+modem+"/balance", `"next_check"`) == 1
	})
	g.get("modem balance", "/v1/modems/"+modem+"/balance")
	g.call("sim resume refused", "POST", "/v1/sims/"+iccid+"/resume", "", nil)

	// Errors.
	g.call("invalid field", "POST", "/v1/messages", `{"to":"nobody","text":"x"}`, nil)
	g.get("not found", "/v1/messages/msg_none")
	g.call("method not allowed", "PUT", "/v1/messages", "", nil)

	// Events, webhooks, dead letters, storage.
	eventually(t, "a dead letter", func() bool { return g.count("/v1/webhooks/dead-letters", `"event_id"`) >= 1 })
	g.get("webhooks", "/v1/webhooks")
	var dead struct {
		DeadLetters []struct{ ID int64 } `json:"dead_letters"`
	}
	g.call("dead letters", "GET", "/v1/webhooks/dead-letters", "", &dead)
	failing.setStatus(http.StatusOK)
	g.call("dead letter retried", "POST", fmt.Sprintf("/v1/webhooks/dead-letters/%d/retry", dead.DeadLetters[0].ID), "", nil)
	g.get("events page", "/v1/events?limit=2")
	g.events()
	g.get("storage", "/v1/storage")
	g.get("readyz", "/readyz")
	g.get("status", "/v1/status")
	g.check(filepath.Join("testdata", "golden", "tour.txt"))
}

// golden collects normalised answers in the order the tour makes them.
type golden struct {
	t   *testing.T
	h   *ussdHarness
	out bytes.Buffer
	// strip removes what a racing loop may or may not have added yet.
	strip *regexp.Regexp
}

func (g *golden) raw(method, path, body string) (int, []byte) {
	g.t.Helper()
	req, err := http.NewRequest(method, g.h.url+path, strings.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (g *golden) get(name, path string) { g.t.Helper(); g.call(name, "GET", path, "", nil) }

// call records one answer and decodes it into out when out is not nil.
func (g *golden) call(name, method, path, body string, out any) {
	g.t.Helper()
	code, b := g.raw(method, path, body)
	nb := normalise(b)
	if g.strip != nil {
		nb = g.strip.ReplaceAll(nb, nil)
	}
	fmt.Fprintf(&g.out, "### %s: %s %s -> %d\n%s", name, method, normalisePath(path), code, nb)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			g.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

func (g *golden) state(path string) string {
	var v struct{ State string }
	_, b := g.raw("GET", path, "")
	json.Unmarshal(b, &v)
	return v.State
}

func (g *golden) count(path, what string) int {
	_, b := g.raw("GET", path, "")
	return bytes.Count(b, []byte(what))
}

// events records the first event of each type, one per line, in log order.
// Which modem events come, and how often, depends on timing; their shape
// does not.
func (g *golden) events() {
	g.t.Helper()
	var page struct {
		Events []json.RawMessage `json:"events"`
	}
	_, b := g.raw("GET", "/v1/events?limit=1000", "")
	if err := json.Unmarshal(b, &page); err != nil {
		g.t.Fatal(err)
	}
	seen := map[string]bool{}
	typeOf := regexp.MustCompile(`"type":"([^"]+)"`)
	g.out.WriteString("### first event of each type\n")
	for _, ev := range page.Events {
		typ := string(typeOf.FindSubmatch(ev)[1])
		if seen[typ] {
			continue
		}
		seen[typ] = true
		g.out.Write(normalise(ev))
		g.out.WriteString("\n")
	}
}

func (g *golden) check(path string) {
	g.t.Helper()
	got := g.out.Bytes()
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			g.t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			g.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		g.t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var a, b string
			if i < len(gl) {
				a = gl[i]
			}
			if i < len(wl) {
				b = wl[i]
			}
			if a != b {
				j := 0
				for j < len(a) && j < len(b) && a[j] == b[j] {
					j++
				}
				from := max(j-80, 0)
				g.t.Fatalf("%s line %d, byte %d:\n got: …%s\nwant: …%s", path, i+1, j, a[from:min(j+80, len(a))], b[from:min(j+80, len(b))])
			}
		}
	}
}

var (
	goldenTime   = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	goldenPlace  = regexp.MustCompile(`/tmp/gsmbridge-sim-\d+|http://127\.0\.0\.1:\d+`)
	goldenTries  = regexp.MustCompile(`"attempts":\d+,"first_try_at"`)
	goldenID     = regexp.MustCompile(`\b(msg|ussd)_[0-9a-v]{20,}`)
	goldenNumber = regexp.MustCompile(`"(id|event_id|reply_inbox_id|next_after|seq|cursor|database_bytes|wal_bytes|reclaimable_bytes|free_bytes|latency_ms|uptime_seconds)":-?\d+`)
	goldenCursor = regexp.MustCompile(`"(next_cursor|host)":"[^"]+"`)
)

// normalise replaces what differs from run to run (times, random ids,
// counters that depend on how many events came before) with fixed markers,
// keeping every byte of the encoding around them.
func normalise(b []byte) []byte {
	b = goldenTime.ReplaceAll(b, []byte(`<time>`))
	b = goldenPlace.ReplaceAll(b, []byte(`<place>`))
	b = goldenTries.ReplaceAll(b, []byte(`"attempts":<n>,"first_try_at"`))
	b = goldenID.ReplaceAll(b, []byte(`${1}_<id>`))
	b = goldenNumber.ReplaceAll(b, []byte(`"$1":<n>`))
	b = goldenCursor.ReplaceAll(b, []byte(`"$1":"<s>"`))
	return b
}

func normalisePath(p string) string {
	return regexp.MustCompile(`/\d+`).ReplaceAllString(goldenID.ReplaceAllString(p, "${1}_<id>"), "/<n>")
}
