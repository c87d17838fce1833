package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/fleet"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// Confirmations posted to either host of a two-host fleet each reach the
// customer once, from the host that took them, whose SIM gets the reply
// back and decides it; both hosts answer for every one of them, and the
// fleet's event stream carries each change once.
func TestAFleetOfTwoConfirmsEachPaymentOnce(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a, b := startFleetHost(t, nats.URLs(), "a"), startFleetHost(t, nats.URLs(), "b")
	a.waitReady(2)
	b.waitReady(2)
	hosts := []*harness{a, b}
	const n = 8
	want := map[string]payment.State{}
	for i := range n {
		phone := fmt.Sprintf("+7916555000%d", i)
		rule, final := modemsim.PhoneRule{Reply: "Да", After: 20 * time.Millisecond}, payment.Confirmed
		if i%4 == 3 {
			rule, final = modemsim.PhoneRule{Reply: "0"}, payment.Cancelled
		}
		// Each host's SIMs are on their own simulated network: the reply
		// comes from the network whose SIM sent the question.
		for _, h := range hosts {
			h.net.Phones().Add(phone, rule)
		}
		id := fmt.Sprintf("pay:%d", i)
		var c api.Confirmation
		if code := hosts[i%2].do("POST", "/v1/confirmations", paymentBody(id, phone, fmt.Sprintf("T-%d", i)), &c); code != 202 || c.ID != id || c.State != payment.Queued || c.Version != 1 {
			t.Fatalf("POST %s to host %d: %d %+v", id, i%2, code, c)
		}
		want[id] = final
	}
	// A retry on the other host is the same confirmation; the id with
	// another request is refused there too.
	var again api.Confirmation
	if code := b.do("POST", "/v1/confirmations", paymentBody("pay:0", "+79165550000", "T-0"), &again); code != 200 || again.ID != "pay:0" {
		t.Fatalf("retry on the other host: %d %+v", code, again)
	}
	var e struct{ Error struct{ Code string } }
	if code := b.do("POST", "/v1/confirmations", paymentBody("pay:0", "+79165550000", "T-other"), &e); code != 409 || e.Error.Code != "conflict" {
		t.Fatalf("the id with another request: %d %+v", code, e)
	}
	for id, final := range want {
		for _, h := range hosts {
			eventually(t, id+" final on every host", func() bool {
				var c api.Confirmation
				return h.do("GET", "/v1/confirmations/"+id, nil, &c) == 200 && c.State == final
			})
		}
	}
	// The reply went to the SIM that sent the question, on the host that
	// holds the confirmation.
	for id := range want {
		holder, _, err := a.d.fleet.Claims.Holder(t.Context(), id)
		if err != nil || holder == "" {
			t.Fatalf("holder of %s: %q, %v", id, holder, err)
		}
		h := map[string]*harness{"a": a, "b": b}[holder]
		c, err := h.d.store.Confirmations.GetConfirmation(t.Context(), id)
		if err != nil || c.ReplyID == 0 {
			t.Fatalf("%s on its holder %s: %+v, %v", id, holder, c, err)
		}
		ours := false
		for _, m := range h.d.Modems() {
			ours = ours || m.ICCID == c.ICCID
		}
		if !ours {
			t.Fatalf("%s was decided through SIM %s, not one of host %s", id, c.ICCID, holder)
		}
	}
	// Each customer read one SMS, on whichever host's network sent it.
	for i := range n {
		phone := fmt.Sprintf("+7916555000%d", i)
		if got := len(a.net.Phones().Inbox(phone)) + len(b.net.Phones().Inbox(phone)); got != 1 {
			t.Fatalf("%s read %d confirmation SMS, want 1", phone, got)
		}
	}
	// Finished confirmations leave the claims.
	eventually(t, "claims finished", func() bool {
		views, err := a.d.fleet.Conn.Survey(t.Context(), a.d.fleet.Claims)
		if err != nil {
			return false
		}
		for _, v := range views {
			if v.Taken+v.Sending > 0 {
				return false
			}
		}
		return len(views) == 2
	})
	// The fleet's stream holds each confirmation's changes once: queued,
	// sent and its final state.
	js, done := dialFleet(t, nats.URLs()[0])
	defer done()
	eventually(t, "every confirmation event in the stream once", func() bool {
		seen, err := confirmationEvents(t.Context(), js)
		if err != nil || len(seen) != 3*n {
			return false
		}
		for id, final := range want {
			for _, typ := range []string{"confirmation.queued", "confirmation.sent", "confirmation." + string(final)} {
				if seen[id+" "+typ] != 1 {
					t.Fatalf("%s %s is in the stream %d times", id, typ, seen[id+" "+typ])
				}
			}
		}
		return true
	})
}

// confirmationEvents counts the fleet stream's confirmation events by
// confirmation and type.
func confirmationEvents(ctx context.Context, js jetstream.JetStream) (map[string]int, error) {
	cons, err := js.OrderedConsumer(ctx, "GSMBRIDGE_EVENTS", jetstream.OrderedConsumerConfig{FilterSubjects: []string{"gsmbridge.events.*.confirmation.>"}})
	if err != nil {
		return nil, err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for left := int(info.NumPending); left > 0; {
		batch, err := cons.Fetch(left, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return nil, err
		}
		for m := range batch.Messages() {
			var e struct {
				Type   string
				Object struct{ ID string }
			}
			if err := json.Unmarshal(m.Data(), &e); err != nil {
				return nil, err
			}
			seen[e.Object.ID+" "+e.Type]++
			left--
		}
		if err := batch.Error(); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

// A long poll on the host that does not hold the confirmation waits for
// its changes on the host that does.
func TestALongPollFollowsAConfirmationHeldByAnotherHost(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a, b := startFleetHost(t, nats.URLs(), "a"), startFleetHost(t, nats.URLs(), "b")
	a.waitReady(2)
	b.waitReady(2)
	phone := "+79165550100"
	for _, h := range []*harness{a, b} {
		h.net.Phones().Add(phone, modemsim.PhoneRule{Reply: "Да", After: 300 * time.Millisecond})
	}
	var c api.Confirmation
	if code := a.do("POST", "/v1/confirmations", paymentBody("pay-lp", phone, "T-9"), &c); code != 202 {
		t.Fatalf("POST: %d", code)
	}
	var holder string
	eventually(t, "a host takes it", func() bool {
		holder, _, _ = a.d.fleet.Claims.Holder(t.Context(), "pay-lp")
		return holder != ""
	})
	other := map[string]*harness{"a": b, "b": a}[holder]
	// Claimed first, then stored on its host.
	eventually(t, "the holder stores it", func() bool {
		_, err := map[string]*harness{"a": a, "b": b}[holder].d.store.Confirmations.GetConfirmation(t.Context(), "pay-lp")
		return err == nil
	})
	for c.State != payment.Confirmed {
		var next api.Confirmation
		if code := other.do("GET", fmt.Sprintf("/v1/confirmations/pay-lp?wait=30s&version=%d", c.Version), nil, &next); code != 200 || next.Version <= c.Version {
			t.Fatalf("long poll after version %d: %d %+v", c.Version, code, next)
		}
		c = next
	}
	if c.ICCID == "" || c.MessageID == "" {
		t.Fatalf("confirmed without its SIM or SMS: %+v", c)
	}
}

// Before any host took it, a confirmation is queued on every host, and a
// long poll of it waits for a host to take it; with the cluster gone a
// new one is refused with the cause and nothing is stored; a bad request
// is the same 400 as on one host.
func TestAConfirmationNoHostTookIsQueuedEverywhere(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startHarnessWith(t, func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
		c.Fleet.PublishTimeout = time.Second
	})
	var e struct{ Error struct{ Code, Field string } }
	if code := a.do("POST", "/v1/confirmations", paymentBody("pay-bad", "12", "T-1"), &e); code != 400 || e.Error.Field != "phone" {
		t.Fatalf("bad phone: %d %+v", code, e)
	}
	var c api.Confirmation
	if code := a.do("POST", "/v1/confirmations", paymentBody("pay-q", "+79165550200", "T-1"), &c); code != 202 || c.State != payment.Queued {
		t.Fatalf("POST: %d %+v", code, c)
	}
	// It waits in the work stream under its kind, with its id to drop a
	// second publish of it.
	js, done := dialFleet(t, nats.URLs()[0])
	defer done()
	stream, err := js.Stream(t.Context(), "GSMBRIDGE_WORK")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := stream.GetLastMsgForSubject(t.Context(), "gsmbridge.work.conf.any"); err != nil || m.Header.Get("Nats-Msg-Id") != "pay-q" {
		t.Fatalf("work stream: %+v, %v", m, err)
	}
	for _, q := range []string{"", "?wait=200ms&version=1", "?wait=200ms"} {
		var got api.Confirmation
		if code := a.do("GET", "/v1/confirmations/pay-q"+q, nil, &got); code != 200 || got.State != payment.Queued || got.Version != 1 || got.Txn != "T-1" || got.Amount != c.Amount {
			t.Fatalf("GET%s: %d %+v", q, code, got)
		}
	}
	if code := a.do("GET", "/v1/confirmations/pay-none", nil, &e); code != 404 {
		t.Fatalf("GET of an id no host knows: %d", code)
	}
	nats.Kill(0)
	if code := a.do("POST", "/v1/confirmations", paymentBody("pay-down", "+79165550201", "T-2"), &e); code != 503 || e.Error.Code != "fleet_unavailable" {
		t.Fatalf("POST with the cluster down: %d %+v", code, e)
	}
	var list api.ConfirmationList
	if a.do("GET", "/v1/confirmations", nil, &list); len(list.Confirmations) != 0 {
		t.Fatalf("%d confirmations stored here: %+v", len(list.Confirmations), list.Confirmations)
	}
}

// A confirmation held by a host that does not answer is 503 naming it.
func TestAConfirmationOnADownHostIsUnavailable(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startHarnessWith(t, func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
	})
	gone, err := fleet.Dial(a.d.cfg.Fleet, "gone", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Close()
	work := fleet.Work{Kind: fleet.KindConfirmation, ID: "pay:gone", Request: json.RawMessage(`{}`)}
	// a makes the fleet's buckets when it joins; the gone host claims after.
	eventually(t, "a joins", func() bool { return a.do("GET", "/v1/hosts", nil, nil) == 200 })
	eventually(t, "the gone host's claim", func() bool {
		_, err := gone.Claims("id-gone").Take(t.Context(), work)
		if err != nil {
			t.Logf("claiming as the gone host: %v", err)
		}
		return err == nil
	})
	var e struct {
		Error struct{ Code, Message string }
	}
	if code := a.do("GET", "/v1/confirmations/pay:gone?wait=1s", nil, &e); code != 503 || e.Error.Code != "host_unavailable" {
		t.Fatalf("GET: %d %+v", code, e)
	}
}

// A confirmation released from this host while it was away is dropped
// unsent when it comes back: another host sends it now, and this host's
// reads of it ask that host.
func TestAReleasedConfirmationIsDroppedUnsent(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startHarnessWith(t, func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
	})
	eventually(t, "a joins", func() bool { return a.do("GET", "/v1/hosts", nil, nil) == 200 })
	ctx := t.Context()
	n := fleetConfirmation{ID: "pay:released", Phone: "+79165550300", Txn: "T-3", Currency: "RUB", Text: "Платёж T-3",
		Encoding: "ucs2", Parts: 1, Fingerprint: "fp", ExpiresAt: time.Now().Add(time.Hour)}
	work := confirmationWork("a", n.newConfirmation(time.Now()), time.Now())
	if _, err := a.d.fleet.Claims.Take(ctx, work); err != nil {
		t.Fatal(err)
	}
	if err := (fleetLocal{a.d}).TakeAll(ctx, []fleet.Work{work})[0]; err != nil {
		t.Fatal(err)
	}
	c, err := a.d.store.Confirmations.GetConfirmation(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.d.fleet.Claims.Release(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if send, wait := a.d.fleetClaimSending(ctx, c.MessageID); send || wait {
		t.Fatalf("released confirmation: send %v wait %v", send, wait)
	}
	if _, err := a.d.store.Confirmations.GetConfirmation(ctx, n.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the copy is still here: %v", err)
	}
	if _, err := a.d.store.Messages.GetMessage(ctx, c.MessageID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("its SMS is still here: %v", err)
	}
}

// A released copy whose drop the store cannot write waits to be dropped
// again: forgotten by the scheduler, it would stay queued here and answer
// this host's reads while another host sends it.
func TestAReleasedCopyThatCannotBeDroppedWaits(t *testing.T) {
	for _, kind := range []string{"message", "confirmation"} {
		t.Run(kind, func(t *testing.T) {
			nats := fleettest.Start(t, 1)
			a := startHarnessWith(t, func(c *config.Config) {
				c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
			})
			eventually(t, "a joins", func() bool { return a.do("GET", "/v1/hosts", nil, nil) == 200 })
			ctx := t.Context()
			now := time.Now()
			var work fleet.Work
			var msgID string
			if kind == "message" {
				msgID = "msg_released"
				work = messageWork(msgID, "a", store.NewMessage{To: "+79165550301", Text: "x", Encoding: "gsm7", Parts: 1, TTL: time.Hour}, now)
			} else {
				n := fleetConfirmation{ID: "pay:undroppable", Phone: "+79165550301", Txn: "T-5", Currency: "RUB", Text: "Платёж T-5",
					Encoding: "ucs2", Parts: 1, Fingerprint: "fp", ExpiresAt: now.Add(time.Hour)}
				work = confirmationWork("a", n.newConfirmation(now), now)
			}
			if _, err := a.d.fleet.Claims.Take(ctx, work); err != nil {
				t.Fatal(err)
			}
			if err := (fleetLocal{a.d}).TakeAll(ctx, []fleet.Work{work})[0]; err != nil {
				t.Fatal(err)
			}
			if kind == "confirmation" {
				c, err := a.d.store.Confirmations.GetConfirmation(ctx, work.ID)
				if err != nil {
					t.Fatal(err)
				}
				msgID = c.MessageID
			}
			if _, err := a.d.fleet.Claims.Release(ctx, "a"); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(a.dataDir, "gsmbridge.db")); err != nil {
				t.Fatal(err)
			}
			if send, wait := a.d.fleetClaimSending(ctx, msgID); send || !wait {
				t.Fatalf("released, the store not writing: send %v wait %v, want it to wait", send, wait)
			}
		})
	}
}

// Any host cancels a confirmation, or answers a repeat of it: the one
// holding it, asked through the cluster; the claim is finished with it.
func TestAnyHostCancelsAConfirmation(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a, b := startFleetHost(t, nats.URLs(), "a"), startFleetHost(t, nats.URLs(), "b")
	a.waitReady(2)
	b.waitReady(2)
	phone := "+79165550400"
	for _, h := range []*harness{a, b} {
		h.net.Phones().Add(phone, modemsim.PhoneRule{Never: true})
	}
	if code := a.do("POST", "/v1/confirmations", paymentBody("pay:del", phone, "T-4"), nil); code != 202 {
		t.Fatalf("POST: %d", code)
	}
	var holder string
	eventually(t, "its SMS sent", func() bool {
		var c api.Confirmation
		if a.do("GET", "/v1/confirmations/pay:del", nil, &c) != 200 || c.State != payment.Sent {
			return false
		}
		holder, _, _ = a.d.fleet.Claims.Holder(t.Context(), "pay:del")
		return holder != ""
	})
	other := map[string]*harness{"a": b, "b": a}[holder]
	// Past the intake's memory of ids, a repeat on the other host is still
	// compared by the holder with what it stored.
	forgetIntake(t, nats.URLs()[0])
	var c api.Confirmation
	if code := other.do("POST", "/v1/confirmations", paymentBody("pay:del", phone, "T-4"), &c); code != 200 || c.State != payment.Sent {
		t.Fatalf("repeat on the host not holding it: %d %+v", code, c)
	}
	var e struct{ Error struct{ Code string } }
	if code := other.do("POST", "/v1/confirmations", paymentBody("pay:del", phone, "T-other"), &e); code != 409 || e.Error.Code != "conflict" {
		t.Fatalf("the id with another request: %d %+v", code, e)
	}
	if n := workPending(t, nats.URLs()[0]); n != 0 {
		t.Fatalf("a repeat was published again: %d pieces of work", n)
	}
	if code := other.do("DELETE", "/v1/confirmations/pay:del", nil, &c); code != 200 || c.State != payment.Cancelled {
		t.Fatalf("DELETE on the host not holding it: %d %+v", code, c)
	}
	if code := other.do("DELETE", "/v1/confirmations/pay:del", nil, &e); code != 409 || e.Error.Code != "conflict" {
		t.Fatalf("DELETE again: %d %+v", code, e)
	}
	if code := other.do("DELETE", "/v1/confirmations/pay:none", nil, nil); code != 404 {
		t.Fatalf("DELETE of an id no host knows: %d", code)
	}
	eventually(t, "its claim finished", func() bool {
		_, state, err := a.d.fleet.Claims.Holder(t.Context(), "pay:del")
		return err == nil && state == fleet.Done
	})
}

// A confirmation no host took yet is cancelled by the host asked, which
// takes it for that: no host sends it afterwards.
func TestACancelBeforeAnyHostTookItTakesItToCancel(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startHarnessWith(t, func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
	})
	if code := a.do("POST", "/v1/confirmations", paymentBody("pay:early", "+79165550500", "T-5"), nil); code != 202 {
		t.Fatalf("POST: %d", code)
	}
	var c api.Confirmation
	if code := a.do("DELETE", "/v1/confirmations/pay:early", nil, &c); code != 200 || c.State != payment.Cancelled {
		t.Fatalf("DELETE: %d %+v", code, c)
	}
	if code := a.do("GET", "/v1/confirmations/pay:early", nil, &c); code != 200 || c.State != payment.Cancelled {
		t.Fatalf("GET: %d %+v", code, c)
	}
	eventually(t, "its claim finished", func() bool {
		holder, state, err := a.d.fleet.Claims.Holder(t.Context(), "pay:early")
		return err == nil && holder == "a" && state == fleet.Done
	})
	// A host that comes with a free lane drops the work left in the stream.
	b := startFleetHost(t, nats.URLs(), "b")
	b.waitReady(2)
	eventually(t, "the work stream empty", func() bool {
		views, err := a.d.fleet.Conn.Survey(t.Context(), a.d.fleet.Claims)
		return err == nil && len(views) == 2 && workPending(t, nats.URLs()[0]) == 0
	})
	if got := len(b.net.Phones().Inbox("+79165550500")); got != 0 {
		t.Fatalf("the cancelled confirmation's SMS reached the customer %d times", got)
	}
}

func workPending(t *testing.T, url string) uint64 {
	t.Helper()
	js, done := dialFleet(t, url)
	defer done()
	s, err := js.Stream(t.Context(), "GSMBRIDGE_WORK")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// forgetIntake purges the fleet's record of accepted ids and keys, as its
// age limit does after the idempotency window.
func forgetIntake(t *testing.T, url string) {
	t.Helper()
	purgeAll(t, bucket(t, url, "gsmbridge_intake"))
}

// A confirmation this host made before it joined the fleet has no claim
// anywhere: it is still this host's to send.
func TestAConfirmationFromBeforeTheFleetIsSent(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startHarnessWith(t, func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
	})
	eventually(t, "a joins", func() bool { return a.do("GET", "/v1/hosts", nil, nil) == 200 })
	n := fleetConfirmation{ID: "pay:local", Phone: "+79165550600", Txn: "T-6", Currency: "RUB", Text: "Платёж T-6",
		Encoding: "ucs2", Parts: 1, Fingerprint: "fp", ExpiresAt: time.Now().Add(time.Hour)}
	_, m, _, err := a.d.store.Confirmations.CreateConfirmation(t.Context(), n.newConfirmation(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if send, wait := a.d.fleetClaimSending(t.Context(), m.ID); !send || wait {
		t.Fatalf("send %v wait %v", send, wait)
	}
}

// A message this host accepted while it worked alone, still queued when
// it joined a fleet, has no claim anywhere either: it is this host's to
// send, not a copy of another host's work to drop.
func TestAMessageFromBeforeTheFleetIsSent(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startHarnessWith(t, func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
	})
	eventually(t, "a joins", func() bool { return a.do("GET", "/v1/hosts", nil, nil) == 200 })
	m, _, err := a.d.store.Messages.Accept(t.Context(), store.NewMessage{To: "+79165550601", Text: "Платёж L-1", Encoding: "ucs2", Parts: 1, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if send, wait := a.d.fleetClaimSending(t.Context(), m.ID); !send || wait {
		t.Fatalf("send %v wait %v", send, wait)
	}
	if _, err := a.d.store.Messages.GetMessage(t.Context(), m.ID); err != nil {
		t.Fatalf("the message is gone from the store: %v", err)
	}
}

// A host that worked alone and is restarted in a fleet sends what it had
// queued: the customer gets the text once, from its modem.
func TestMessagesQueuedAloneAreSentAfterJoiningAFleet(t *testing.T) {
	nats := fleettest.Start(t, 1)
	const customer, text = "+79165550602", "Платёж L-2"
	alone := startHarnessWith(t, nil) // no modem: the message waits
	var acc struct{ ID, State string }
	if code := alone.do("POST", "/v1/messages", map[string]any{"to": customer, "text": text}, &acc); code != 202 || acc.State != "queued" {
		t.Fatalf("POST alone: %d %+v", code, acc)
	}
	alone.stopDaemon()
	a := startHarnessPrepared(t, modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond}, func(c *config.Config, n *modemsim.Network, _ []*modemsim.Modem) {
		c.DataDir = alone.dataDir
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
		n.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	}, modemsim.Huawei)
	// The network hands the SMS to the phone a little after the modem
	// took it.
	eventually(t, "the customer got the SMS", func() bool { return len(a.net.Phones().Inbox(customer)) > 0 })
	if got := a.net.Phones().Inbox(customer); len(got) != 1 || got[0].Text != text {
		t.Fatalf("the customer got %+v, want %q once", got, text)
	}
	// Its "sent" record may still be on its way to the store.
	eventually(t, "the fleet host reads the message as sent", func() bool {
		var m struct{ State string }
		return a.do("GET", "/v1/messages/"+acc.ID, nil, &m) == 200 && m.State == "sent"
	})
	if got := a.net.Phones().Inbox(customer); len(got) != 1 {
		t.Fatalf("the customer got %d SMS by the time the host read it as sent, want 1", len(got))
	}
}

// The send decision for work this host took from the fleet, by what the
// claims bucket says when the first part is due: its own claim, nothing
// at all (a cluster that lost its storage: no other host can hold a copy),
// or another host's finish note (the work went out there).
func TestATakenMessageGoesOutUnlessAnotherHostFinishedIt(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startHarnessWith(t, func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
	})
	eventually(t, "a joins", func() bool { return a.do("GET", "/v1/hosts", nil, nil) == 200 })
	ctx := t.Context()
	take := func(id string) { takeOn(t, a, id, "") }
	claims := bucket(t, nats.URLs()[0], "gsmbridge_claims")
	// Host b, as the fleet sees it: a copy of the same work handed back to
	// the stream reaches it.
	bClaims := otherHost(t, a, "b")
	for _, tc := range []struct {
		id, claims string
		send       bool
	}{
		{"msg_claimed", "as taken", true},
		{"msg_wiped", "empty", true},
		{"msg_finished_on_b", "only b's finish note", false},
		{"msg_taken_by_b", "b's claim alone", false},
	} {
		take(tc.id)
		switch tc.claims {
		case "empty":
			purgeAll(t, claims)
		case "only b's finish note":
			purgeAll(t, claims)
			if _, err := claims.Put(ctx, "w."+tc.id, []byte("b")); err != nil {
				t.Fatal(err)
			}
		case "b's claim alone":
			purgeAll(t, claims)
			if _, err := bClaims.Take(ctx, fleet.Work{Kind: fleet.KindMessage, ID: tc.id}); err != nil {
				t.Fatal(err)
			}
		}
		send, wait := a.d.fleetClaimSending(ctx, tc.id)
		_, err := a.d.store.Messages.GetMessage(ctx, tc.id)
		if send != tc.send || wait || (err == nil) != tc.send {
			t.Errorf("%s with the claims bucket %s: send %v, wait %v, still stored: %v; want send %v", tc.id, tc.claims, send, wait, err == nil, tc.send)
		}
		if !tc.send {
			continue
		}
		// What goes out is claimed, as sending, by this host: a copy that
		// reaches another host now is not sent there too.
		if holder, state, err := bClaims.Holder(ctx, tc.id); err != nil || holder != "a" || state != fleet.Sending {
			t.Errorf("%s: the claims say %q %q (%v), want a sending", tc.id, holder, state, err)
		}
		if _, err := bClaims.Take(ctx, fleet.Work{Kind: fleet.KindMessage, ID: tc.id}); !errors.Is(err, fleet.ErrClaimedElsewhere) {
			t.Errorf("%s: a copy taken on b: %v, want claimed elsewhere", tc.id, err)
		}
	}
}

// dialFleet connects to the fleet's cluster at url as an operator would;
// done closes the connection.
func dialFleet(t *testing.T, url string) (js jetstream.JetStream, done func()) {
	t.Helper()
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, _ = jetstream.New(nc)
	return js, nc.Close
}

// bucket opens a KV bucket of the fleet as an operator would, until the
// test ends.
func bucket(t *testing.T, url, name string) jetstream.KeyValue {
	t.Helper()
	js, done := dialFleet(t, url)
	t.Cleanup(done)
	kv, err := js.KeyValue(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// purgeAll purges every key of kv.
func purgeAll(t *testing.T, kv jetstream.KeyValue) {
	t.Helper()
	keys, err := kv.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys.Keys() {
		if err := kv.Purge(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
}

// takeOn has host a take a message from the fleet as its puller would:
// the claim, then the local row.
func takeOn(t *testing.T, a *harness, id, pin string) {
	t.Helper()
	w := messageWork(id, "b", store.NewMessage{To: "+79165550603", Text: "Платёж " + id, Encoding: "ucs2", Parts: 1,
		PinOperator: pin, TTL: time.Hour}, time.Now())
	if _, err := a.d.fleet.Claims.Take(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	if errs := (fleetLocal{a.d}).TakeAll(t.Context(), []fleet.Work{w}); errs[0] != nil {
		t.Fatal(errs[0])
	}
}

// otherHost is another host of a's fleet as the claims see it.
func otherHost(t *testing.T, a *harness, name string) *fleet.Claims {
	t.Helper()
	f := a.d.cfg.Fleet
	f.Host = name
	c, err := fleet.Dial(f, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.Claims("id-" + name)
}

// A copy this host took whose claim is another host's by now (a release
// while this host was paused, then a take there) is dropped when its time
// runs out, not reported expired beside that host's report of it.
func TestAnExpiringCopyAnotherHostHoldsIsDropped(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startHarnessWith(t, func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
	})
	eventually(t, "a joins", func() bool { return a.do("GET", "/v1/hosts", nil, nil) == 200 })
	ctx := t.Context()
	claims := bucket(t, nats.URLs()[0], "gsmbridge_claims")
	bClaims := otherHost(t, a, "b")
	for _, tc := range []struct {
		id, claims string
		end        bool
	}{
		{"msg_a_holds", "a's claim", true},
		{"msg_b_took", "b's claim", false},
		{"msg_b_finished", "b's finish note", false},
		{"msg_no_claim", "empty", true},
		{"msg_released", "a's claim released", false},
		{"msg_renamed", "a's claim under its old name", true},
	} {
		// Pinned where no host pulls: a released copy stays in the stream.
		takeOn(t, a, tc.id, "25099")
		switch tc.claims {
		case "a's claim released":
			if ids, err := bClaims.Release(ctx, "a"); err != nil || len(ids) != 1 {
				t.Fatalf("release: %v, %v", ids, err)
			}
		case "a's claim under its old name":
			c, _, err := a.d.fleet.Claims.Get(ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			c.Host = "a-before-its-rename"
			b, _ := json.Marshal(c)
			if _, err := claims.Put(ctx, "c."+tc.id, b); err != nil {
				t.Fatal(err)
			}
		case "b's claim":
			purgeAll(t, claims)
			if _, err := bClaims.Take(ctx, fleet.Work{Kind: fleet.KindMessage, ID: tc.id}); err != nil {
				t.Fatal(err)
			}
		case "b's finish note":
			purgeAll(t, claims)
			if _, err := claims.Put(ctx, "w."+tc.id, []byte("b")); err != nil {
				t.Fatal(err)
			}
		case "empty":
			purgeAll(t, claims)
		}
		end := a.d.fleetMayEnd(ctx, tc.id)
		_, err := a.d.store.Messages.GetMessage(ctx, tc.id)
		if end != tc.end || (err == nil) != tc.end {
			t.Errorf("%s with %s: may end %v, still stored %v; want %v", tc.id, tc.claims, end, err == nil, tc.end)
		}
	}
}

// A confirmation id that comes back from the fleet with another request,
// after the intake forgot the first (24 h), finds this host's first one,
// decided long ago: that one stands, and the claim the take wrote is
// finished at once; taken for good, it counted as work this host holds.
func TestAnIdThatCameBackAfterItsDecisionLeavesNoClaim(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startHarnessWith(t, func(c *config.Config) {
		c.Fleet.Servers, c.Fleet.Host, c.Fleet.Replicas = nats.URLs(), "a", 1
	})
	eventually(t, "a joins", func() bool { return a.do("GET", "/v1/hosts", nil, nil) == 200 })
	ctx := t.Context()
	first := fleetConfirmation{ID: "pay:again", Phone: "+79165550700", Txn: "T-7", Currency: "RUB", Text: "Платёж T-7",
		Encoding: "ucs2", Parts: 1, Fingerprint: "fp-1", ExpiresAt: time.Now().Add(time.Hour)}
	if _, _, _, err := a.d.store.Confirmations.CreateConfirmation(ctx, first.newConfirmation(time.Now())); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := a.d.store.Confirmations.CancelConfirmation(ctx, first.ID, nil); err != nil {
		t.Fatal(err)
	}
	again := first.newConfirmation(time.Now())
	again.Txn, again.Text, again.Fingerprint, again.TTL = "T-8", "Платёж T-8", "fp-2", time.Hour
	w := confirmationWork("b", again, time.Now())
	if _, err := a.d.fleet.Claims.Take(ctx, w); err != nil {
		t.Fatal(err)
	}
	if errs := (fleetLocal{a.d}).TakeAll(ctx, []fleet.Work{w}); errs[0] != nil {
		t.Fatalf("taking the id back: %v", errs[0])
	}
	if holder, state, err := a.d.fleet.Claims.Holder(ctx, first.ID); err != nil || holder != "a" || state != fleet.Done {
		t.Fatalf("the claim: %q %s %v, want finished by a", holder, state, err)
	}
	if c, err := a.d.store.Confirmations.GetConfirmation(ctx, first.ID); err != nil || c.Txn != "T-7" || c.State != payment.Cancelled {
		t.Fatalf("the first confirmation: %+v, %v", c, err)
	}
}
