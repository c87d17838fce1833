package service

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/fleet"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Any host cancels a message, as it does a confirmation: the host holding
// it, asked through the cluster; work no host took yet, taken and
// cancelled by the host asked; and a copy the host asked took before its
// work went to another host is dropped there, the holder asked.
func TestAnyHostCancelsAMessage(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a, b := startFleetHost(t, nats.URLs(), "a"), startFleetHost(t, nats.URLs(), "b")
	a.waitReady(2)
	b.waitReady(2)
	ctx := t.Context()
	work := func(id, pin string) fleet.Work {
		return messageWork(id, "a", store.NewMessage{To: "+79165550800", Text: "Платёж " + id, Encoding: "ucs2", Parts: 1,
			PinOperator: pin, TTL: time.Hour}, time.Now())
	}
	// holdOn has h take w and store it without queueing it: it stays
	// queued there for the test's cancel.
	holdOn := func(h *harness, w fleet.Work) {
		t.Helper()
		if _, err := h.d.fleet.Claims.Take(ctx, w); err != nil {
			t.Fatal(err)
		}
		if errs := (fleetLocal{h.d}).store(ctx, []fleet.Work{w}, false); errs[0] != nil {
			t.Fatal(errs[0])
		}
	}
	cancelled := func(h *harness, id string) {
		t.Helper()
		var m api.Message
		if code := h.do("DELETE", "/v1/messages/"+id, nil, &m); code != 200 || m.State != api.MessageCancelled {
			t.Fatalf("DELETE %s on %s: %d %+v", id, h.d.fleet.Conn.Host(), code, m)
		}
	}

	holdOn(b, work("msg_on_b", ""))
	cancelled(a, "msg_on_b")
	if m, err := b.d.store.Messages.GetMessage(ctx, "msg_on_b"); err != nil || m.State != store.Cancelled {
		t.Fatalf("b's row: %+v, %v", m, err)
	}

	// Pinned to an operator no host serves, the work waits in the stream.
	if _, _, err := a.d.fleet.Conn.Submit(ctx, work("msg_untaken", "25099"), "", ""); err != nil {
		t.Fatal(err)
	}
	cancelled(b, "msg_untaken")
	eventually(t, "the cancelled work's claim finished by b", func() bool {
		holder, state, err := a.d.fleet.Claims.Holder(ctx, "msg_untaken")
		return err == nil && holder == "b" && state == fleet.Done
	})

	// a took msg_moved, was released, and b holds it now.
	moved := work("msg_moved", "")
	holdOn(a, moved)
	purgeAll(t, bucket(t, nats.URLs()[0], "gsmbridge_claims"))
	holdOn(b, moved)
	cancelled(a, "msg_moved")
	if _, err := a.d.store.Messages.GetMessage(ctx, "msg_moved"); err == nil {
		t.Fatal("a kept its copy of a message b holds")
	}
	if m, err := b.d.store.Messages.GetMessage(ctx, "msg_moved"); err != nil || m.State != store.Cancelled {
		t.Fatalf("b's row: %+v, %v", m, err)
	}

	if code := a.do("DELETE", "/v1/messages/msg_nobody", nil, nil); code != 404 {
		t.Fatalf("DELETE of an id no host knows: %d", code)
	}

	// a's claim released to the fleet (its copy published again, pinned
	// where no host pulls it): a takes it back to cancel it, or the copy
	// would be taken and sent.
	released := work("msg_released", "25099")
	holdOn(a, released)
	if ids, err := otherHost(t, a, "c").Release(ctx, "a"); err != nil || len(ids) != 1 {
		t.Fatalf("release: %v, %v", ids, err)
	}
	cancelled(a, "msg_released")
	eventually(t, "the released work's claim finished by a", func() bool {
		holder, state, err := b.d.fleet.Claims.Holder(ctx, "msg_released")
		return err == nil && holder == "a" && state == fleet.Done
	})

	// A client that goes away once its cancel began does not leave the
	// work taken and unqueued: the cancel finishes.
	if _, _, err := a.d.fleet.Conn.Submit(ctx, work("msg_abandoned", "25099"), "", ""); err != nil {
		t.Fatal(err)
	}
	gone, leave := context.WithCancel(ctx)
	leave()
	r := httptest.NewRequestWithContext(gone, "DELETE", "/v1/messages/msg_abandoned", nil)
	r.SetPathValue("id", "msg_abandoned")
	b.d.sending.Delete(httptest.NewRecorder(), r)
	if m, err := b.d.store.Messages.GetMessage(ctx, "msg_abandoned"); err != nil || m.State != store.Cancelled {
		t.Fatalf("b's row after an abandoned cancel: %+v, %v", m, err)
	}
}
