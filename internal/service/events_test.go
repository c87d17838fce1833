package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// startEventHarness starts the daemon with an adjusted configuration and
// hands back the daemon too, to append events without going through a modem.
func startEventHarness(t *testing.T, adjust func(*config.Config), dialects ...modemsim.Dialect) (*harness, *Service) {
	t.Helper()
	h := startHarnessWith(t, adjust, dialects...)
	return h, h.d
}

// receiver is a webhook endpoint on loopback that checks every delivery
// with the README's verifier and records what it accepted.
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	secrets []string

	mu       sync.Mutex
	status   int // answer to give; 2xx accepts
	attempts int
	got      []api.Event
	ids      map[int64]int // deliveries accepted per event id
}

func newReceiver(t *testing.T, status int, secrets ...string) *receiver {
	rc := &receiver{t: t, status: status, secrets: secrets, ids: map[int64]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := verifyGsmbridge(r.Header, body, rc.secrets, time.Now()); err != nil {
		rc.t.Errorf("delivery failed verification: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var ev api.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		rc.t.Errorf("delivery body %q: %v", body, err)
	}
	if r.Header.Get("X-Gsmbridge-Id") != strconv.FormatInt(ev.ID, 10) || r.Header.Get("X-Gsmbridge-Event") != ev.Type ||
		r.Header.Get("Content-Type") != "application/json" {
		rc.t.Errorf("headers %v do not match event %d %s", r.Header, ev.ID, ev.Type)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.attempts++
	if rc.status/100 == 2 {
		rc.got = append(rc.got, ev)
		rc.ids[ev.ID]++
	}
	w.WriteHeader(rc.status)
}

func (rc *receiver) setStatus(code int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.status = code
}

func (rc *receiver) snapshot() (attempts int, got []api.Event, ids map[int64]int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.attempts, slices.Clone(rc.got), maps.Clone(rc.ids)
}

type eventPage struct {
	Events    []api.Event `json:"events"`
	NextAfter int64       `json:"next_after"`
	More      bool        `json:"more"`
}

func allEvents(h *harness, query string) []api.Event {
	var all []api.Event
	after := int64(0)
	for {
		var p eventPage
		if code := h.do("GET", fmt.Sprintf("/v1/events?limit=1000&after=%d%s", after, query), nil, &p); code != 200 {
			h.t.Fatalf("GET /v1/events: %d", code)
		}
		all = append(all, p.Events...)
		if !p.More {
			return all
		}
		after = p.NextAfter
	}
}

func appendEvents(t *testing.T, d *Service, n int, typ string) {
	t.Helper()
	for i := range n {
		if err := d.store.Events.AppendEvent(context.Background(), typ, "test", "obj-"+typ, i+1, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
}

type webhooksPage struct {
	Webhooks []api.Webhook `json:"webhooks"`
}

func TestWebhookOutageThenEveryEventOnceInOrderSignedWithTheFirstSecret(t *testing.T) {
	const newSecret, oldSecret = "new-secret-0123456789", "old-secret-0123456789"
	rc := newReceiver(t, http.StatusServiceUnavailable, oldSecret, newSecret)
	h, d := startEventHarness(t, func(c *config.Config) {
		c.Webhooks = []config.Webhook{{URL: rc.srv.URL + "/hook?token=abc", Secrets: []string{newSecret, oldSecret}, Timeout: 2 * time.Second}}
		c.WebhookDefaults = config.WebhookDefaults{RetryInitial: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond, GiveUpAfter: time.Hour}
	}, modemsim.Generic)
	h.waitReady(1)
	h.net.Phones().Add("+79161234567", modemsim.PhoneRule{Never: true})
	var ids []string
	// One message: the operator profile's per-minute limit would hold a
	// second one back for a minute.
	for i := range 1 {
		var acc struct{ ID string }
		if code := h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": fmt.Sprintf("Платёж %d", i), "report": true}, &acc); code != http.StatusAccepted {
			t.Fatalf("POST /v1/messages: %d", code)
		}
		ids = append(ids, acc.ID)
	}
	appendEvents(t, d, 20, "test.bulk")
	eventually(t, "retries against the down endpoint", func() bool {
		var p webhooksPage
		h.do("GET", "/v1/webhooks", nil, &p)
		return len(p.Webhooks) == 1 && p.Webhooks[0].Attempts >= 2
	})
	var p webhooksPage
	h.do("GET", "/v1/webhooks", nil, &p)
	if w := p.Webhooks[0]; w.URL != rc.srv.URL+"/hook" || w.Backlog == 0 || w.LastError != "endpoint answered HTTP 503 Service Unavailable" || w.NextAttempt.IsZero() {
		t.Fatalf("endpoint while down: %+v", w)
	}
	eventually(t, "every message delivered", func() bool {
		for _, id := range ids {
			var m api.Message
			h.do("GET", "/v1/messages/"+id, nil, &m)
			if m.State != store.Delivered {
				return false
			}
		}
		return true
	})
	rc.setStatus(http.StatusNoContent)
	log := allEvents(h, "")
	eventually(t, "the receiver caught up", func() bool {
		_, got, _ := rc.snapshot()
		return len(got) >= len(log)
	})
	_, got, counts := rc.snapshot()
	for _, ev := range log {
		if counts[ev.ID] != 1 {
			t.Errorf("event %d %s delivered %d times", ev.ID, ev.Type, counts[ev.ID])
		}
	}
	lastSeq := map[string]int{}
	for i, ev := range got {
		if i > 0 && ev.ID <= got[i-1].ID {
			t.Errorf("event %d arrived after %d", ev.ID, got[i-1].ID)
		}
		key := ev.Object.Kind + "/" + ev.Object.ID
		if ev.Object.Seq <= lastSeq[key] {
			t.Errorf("%s: seq %d after %d", key, ev.Object.Seq, lastSeq[key])
		}
		lastSeq[key] = ev.Object.Seq
	}
	// Deliveries are the log's events, byte for byte in their data.
	for i := range min(len(got), len(log)) {
		if got[i].ID != log[i].ID || !bytes.Equal(compactJSON(t, got[i].Data), compactJSON(t, log[i].Data)) {
			t.Fatalf("delivery %d is %d %s, log has %d %s", i, got[i].ID, got[i].Data, log[i].ID, log[i].Data)
		}
	}
	var delivered int
	for _, ev := range got {
		if ev.Type == "message.delivered" {
			delivered++
		}
	}
	if delivered != 1 {
		t.Errorf("%d message.delivered events, want 1", delivered)
	}
	eventually(t, "cursor at the end", func() bool {
		h.do("GET", "/v1/webhooks", nil, &p)
		return p.Webhooks[0].Cursor >= log[len(log)-1].ID && p.Webhooks[0].Backlog == 0 && p.Webhooks[0].Attempts == 0
	})
}

func compactJSON(t *testing.T, raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWebhookFiltersDeadLettersAndASlowEndpointBlocksNoOther(t *testing.T) {
	const secret = "secret-0123456789abcdef"
	smsOnly := newReceiver(t, http.StatusOK, secret)
	// The stuck endpoint never answers in time.
	release := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(stuck.Close)
	t.Cleanup(func() { close(release) })
	failing := newReceiver(t, http.StatusInternalServerError, secret)
	h, d := startEventHarness(t, func(c *config.Config) {
		c.Webhooks = []config.Webhook{
			{URL: smsOnly.srv.URL, Secrets: []string{secret}, Events: []string{"sms.*"}, Timeout: time.Second},
			{URL: stuck.URL, Secrets: []string{secret}, Timeout: 100 * time.Millisecond},
			{URL: failing.srv.URL, Secrets: []string{secret}, Events: []string{"test.dead"}, Timeout: time.Second},
		}
		c.WebhookDefaults = config.WebhookDefaults{RetryInitial: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond, GiveUpAfter: 300 * time.Millisecond}
	})
	appendEvents(t, d, 3, "test.noise")
	appendEvents(t, d, 2, "test.dead")
	appendEvents(t, d, 2, "sms.received")
	appendEvents(t, d, 2, "test.noise")
	last := allEvents(h, "")
	end := last[len(last)-1].ID

	eventually(t, "sms.* endpoint got its events while another hangs", func() bool {
		_, got, _ := smsOnly.snapshot()
		return len(got) == 2
	})
	_, got, _ := smsOnly.snapshot()
	for _, ev := range got {
		if ev.Type != "sms.received" {
			t.Errorf("filtered endpoint got %s", ev.Type)
		}
	}
	eventually(t, "two dead letters for the failing endpoint", func() bool {
		var dl struct {
			DeadLetters []api.DeadLetter `json:"dead_letters"`
		}
		h.do("GET", "/v1/webhooks/dead-letters?webhook=2", nil, &dl)
		return len(dl.DeadLetters) == 2
	})
	var p webhooksPage
	eventually(t, "filtered endpoints past the end of the log", func() bool {
		h.do("GET", "/v1/webhooks", nil, &p)
		return p.Webhooks[0].Cursor == end && p.Webhooks[2].Cursor == end
	})
	if w := p.Webhooks[2]; w.DeadLetters != 2 || w.Backlog != 0 {
		t.Fatalf("failing endpoint: %+v", w)
	}
	// The stuck endpoint times out on every event and gives each up in turn.
	eventually(t, "the stuck endpoint's first dead letter", func() bool {
		var dl struct {
			DeadLetters []api.DeadLetter `json:"dead_letters"`
		}
		h.do("GET", "/v1/webhooks/dead-letters?webhook=1", nil, &dl)
		return len(dl.DeadLetters) > 0 && strings.HasPrefix(dl.DeadLetters[0].LastError, "no answer within 100ms")
	})

	var dl struct {
		DeadLetters []api.DeadLetter `json:"dead_letters"`
	}
	h.do("GET", "/v1/webhooks/dead-letters?webhook=2", nil, &dl)
	letter := dl.DeadLetters[0]
	if letter.EventType != "test.dead" || letter.Webhook == nil || *letter.Webhook != 2 || letter.Attempts < 2 ||
		letter.LastError != "endpoint answered HTTP 500 Internal Server Error" {
		t.Fatalf("dead letter %+v", letter)
	}
	retry := fmt.Sprintf("/v1/webhooks/dead-letters/%d/retry", letter.ID)
	var e struct{ Error httpapi.Error }
	if code := h.do("POST", retry, nil, &e); code != http.StatusBadGateway || e.Error.Code != "webhook_failed" {
		t.Fatalf("retry while failing: %d %+v", code, e)
	}
	failing.setStatus(http.StatusOK)
	if code := h.do("POST", retry, nil, nil); code != http.StatusOK {
		t.Fatalf("retry: %d", code)
	}
	if _, got, _ := failing.snapshot(); len(got) != 1 || got[0].ID != letter.EventID {
		t.Fatalf("retry delivered %v, want event %d", got, letter.EventID)
	}
	h.do("GET", "/v1/webhooks/dead-letters?webhook=2", nil, &dl)
	if len(dl.DeadLetters) != 1 || dl.DeadLetters[0].ID == letter.ID {
		t.Fatalf("after retry: %+v", dl.DeadLetters)
	}
	if code := h.do("POST", retry, nil, &e); code != http.StatusNotFound {
		t.Fatalf("retry of a delivered letter: %d", code)
	}
}

func TestEventsAPIPagesFiltersWaitsAndNamesBadFields(t *testing.T) {
	h, d := startEventHarness(t, func(*config.Config) {})
	appendEvents(t, d, 4, "sim.a")
	appendEvents(t, d, 3, "modem.b")
	var p eventPage
	var seen []int64
	after := int64(0)
	for {
		if code := h.do("GET", fmt.Sprintf("/v1/events?limit=3&after=%d", after), nil, &p); code != 200 {
			t.Fatalf("page: %d", code)
		}
		for _, ev := range p.Events {
			seen = append(seen, ev.ID)
		}
		after = p.NextAfter
		if !p.More {
			break
		}
	}
	if len(seen) != 7 || !slices.IsSorted(seen) {
		t.Fatalf("paged ids %v", seen)
	}
	if got := allEvents(h, "&type=sim.*"); len(got) != 4 || got[0].Type != "sim.a" || got[0].Object.Kind != "test" {
		t.Fatalf("type=sim.*: %v", got)
	}
	if got := allEvents(h, "&type=modem.b,sim.a"); len(got) != 7 {
		t.Fatalf("two types: %d events", len(got))
	}
	// A filtered page that finds nothing still moves the cursor to the end.
	h.do("GET", "/v1/events?type=balance.*", nil, &p)
	if len(p.Events) != 0 || p.NextAfter != seen[6] {
		t.Fatalf("empty filtered page: %+v", p)
	}

	// A long poll returns as soon as an event arrives.
	type result struct {
		p    eventPage
		code int
	}
	done := make(chan result, 1)
	go func() {
		var p eventPage
		code := h.do("GET", fmt.Sprintf("/v1/events?wait=20s&after=%d&type=store.*", seen[6]), nil, &p)
		done <- result{p, code}
	}()
	appendEvents(t, d, 1, "receiving.x") // skipped by the filter: the poll goes on
	appendEvents(t, d, 1, "store.x")
	r := <-done
	if r.code != 200 || len(r.p.Events) != 1 || r.p.Events[0].Type != "store.x" {
		t.Fatalf("long poll: %d %+v", r.code, r.p)
	}

	for _, c := range []struct{ query, field string }{
		{"after=-1", "after"}, {"after=x", "after"}, {"limit=0", "limit"}, {"limit=1001", "limit"},
		{"type=Message", "type"}, {"type=a..b", "type"}, {"wait=-1s", "wait"}, {"wait=soon", "wait"},
		// Types no event has would answer an empty page for good.
		{"type=bogus", "type"}, {"type=bogus.*", "type"}, {"type=sms.received,bogus", "type"},
		{"type=message.bogus", "type"}, {"type=message.sent.*", "type"}, {"type=confirmation.sent_", "type"},
	} {
		var e struct{ Error httpapi.Error }
		if code := h.do("GET", "/v1/events?"+c.query, nil, &e); code != 400 || e.Error.Field != c.field {
			t.Errorf("%s: %d field %q, want 400 %q", c.query, code, e.Error.Field, c.field)
		}
	}
}

func TestRetentionBlanksReceivedTextsOnSchedule(t *testing.T) {
	h, _ := startEventHarness(t, func(c *config.Config) {
		c.Retention = config.Retention{BlankTextAfter: time.Millisecond, PurgeInterval: 50 * time.Millisecond}
		c.Receive.PollInterval = time.Hour
	}, modemsim.Generic)
	h.waitReady(1)
	if err := h.net.Phones().Send("+79161234567", h.modems[0].Config().MSISDN, "Да"); err != nil {
		t.Fatal(err)
	}
	var page inboxPage
	eventually(t, "reply stored and then blanked", func() bool {
		h.do("GET", "/v1/inbox", nil, &page)
		return len(page.Messages) == 1 && page.Messages[0].Blanked
	})
	if page.Messages[0].Text != "" {
		t.Fatalf("blanked inbox message still has text %q", page.Messages[0].Text)
	}
	// The event payload is blanked by the same purge, a batch later.
	eventually(t, "sms.received payload blanked", func() bool {
		evs := allEvents(h, "&type=sms.received")
		return len(evs) == 1 && !bytes.Contains(evs[0].Data, []byte("Да")) && bytes.Contains(evs[0].Data, []byte(`"text_blanked":true`))
	})
}
