package service

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/fleet"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// A message another host claimed a moment ago and has not stored yet reads
// queued, not 404: the holder does not know it until its store commits.
func TestAMessageClaimedButNotYetStoredReadsQueued(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startHarnessWith(t, func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
	})
	var acc struct{ ID string }
	if code := a.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "Платёж 7"}, &acc); code != 202 {
		t.Fatalf("POST: %d", code)
	}
	// Host b claims it and stops short of storing it.
	b := joinBareHost(t, nats.URLs(), "b")
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	if _, err := b.Claims("id-b").Take(ctx, fleet.Work{Kind: fleet.KindMessage, ID: acc.ID}); err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.Forward().Serve(ctx, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			httpapi.WriteError(w, &httpapi.Error{Status: http.StatusNotFound, Code: "not_found", Message: "not stored yet"})
		}))
	}()
	var m struct{ ID, State string }
	eventually(t, "b answering a's forwarded read", func() bool {
		code := a.do("GET", "/v1/messages/"+acc.ID, nil, &m)
		if code == 404 {
			t.Fatalf("GET of a message b claimed and has not stored: 404")
		}
		return code == 200
	})
	if m.ID != acc.ID || m.State != "queued" {
		t.Fatalf("GET: %+v", m)
	}
}

// A confirmation's SMS has no claim of its own (its host made it), yet its
// id, which the confirmation gives, reads on every host: the host that
// made it answers. An id no host holds is 404 once every live host said
// so, and 503 while a live host does not answer, since it may hold it.
func TestAConfirmationsSMSReadsOnEveryHost(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a, b := startFleetHost(t, nats.URLs(), "a"), startFleetHost(t, nats.URLs(), "b")
	a.waitReady(2)
	b.waitReady(2)
	phone := "+79165550110"
	for _, h := range []*harness{a, b} {
		h.net.Phones().Add(phone, modemsim.PhoneRule{Never: true})
	}
	if code := a.do("POST", "/v1/confirmations", paymentBody("pay-sms", phone, "T-11"), nil); code != 202 {
		t.Fatalf("POST: %d", code)
	}
	var c api.Confirmation
	eventually(t, "its SMS sent", func() bool {
		return a.do("GET", "/v1/confirmations/pay-sms", nil, &c) == 200 && c.State == payment.Sent
	})
	holder, _, err := a.d.fleet.Claims.Holder(t.Context(), "pay-sms")
	if err != nil {
		t.Fatal(err)
	}
	other := map[string]*harness{"a": b, "b": a}[holder]
	if _, err := other.d.store.Messages.GetMessage(t.Context(), c.MessageID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the SMS is stored on the host that did not make it: %v", err)
	}
	var m api.Message
	if code := other.do("GET", "/v1/messages/"+c.MessageID, nil, &m); code != 200 || m.ID != c.MessageID || (m.State != "sent" && m.State != "delivered") || m.To != phone {
		t.Fatalf("GET of the SMS on host %s: %d %+v", other.d.fleet.Conn.Host(), code, m)
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if code := other.do("GET", "/v1/messages/msg_nosuch", nil, &e); code != 404 || e.Error.Code != "not_found" {
		t.Fatalf("GET of an id no host holds: %d %+v", code, e)
	}

	joinBareHost(t, nats.URLs(), "silent") // a third host beats but answers nothing
	if code := other.do("GET", "/v1/messages/msg_nosuch", nil, &e); code != 503 || e.Error.Code != "host_unavailable" || !strings.Contains(e.Error.Message, "silent") {
		t.Fatalf("GET of an id no answering host holds, one host silent: %d %+v", code, e)
	}
	if code := other.do("GET", "/v1/messages/"+c.MessageID, nil, &m); code != 200 || m.ID != c.MessageID {
		t.Fatalf("GET of the SMS with a host silent: %d %+v", code, m)
	}
}

// joinBareHost joins the fleet as host name, with a heartbeat and nothing
// else: no puller, no answers to forwarded reads unless the test serves
// them.
func joinBareHost(t *testing.T, servers []string, name string) *fleet.Conn {
	t.Helper()
	cfg := config.Default().Fleet
	cfg.Servers, cfg.Replicas = servers, 1
	c, err := fleet.Dial(cfg, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if _, err := c.Join(t.Context(), "id-"+name, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	return c
}
