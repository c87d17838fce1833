package events

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

type delivery struct {
	id, event, signature, timestamp string
	body                            []byte
}

// An endpoint gets the events it selects, in order, each signed with the
// first secret over "<timestamp>.<body>", and its cursor moves past them.
func TestRunDeliversSelectedEventsSignedAndMovesTheCursor(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got := make(chan delivery, 10)
	release := make(chan struct{}) // holds the answer to event 4
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		d := delivery{r.Header.Get("X-Gsmbridge-Id"), r.Header.Get("X-Gsmbridge-Event"), r.Header.Get("X-Gsmbridge-Signature"), r.Header.Get("X-Gsmbridge-Timestamp"), b}
		got <- d
		if d.id == "4" {
			<-release
		}
	}))
	defer recv.Close()
	defer close(release)
	ctx := context.Background()
	for _, typ := range []string{"message.sent", "sms.received", "message.failed"} {
		if err := st.Events.AppendEvent(ctx, typ, "test", "obj", 1, map[string]string{"t": typ}); err != nil {
			t.Fatal(err)
		}
	}
	hook := config.Webhook{URL: recv.URL + "/hook", Secrets: []string{"first-secret-0123456789", "old-secret-0123456789"}, Events: []string{"message.*"}, Timeout: 5 * time.Second}
	e, err := New(st.Events, st.Deliveries, Options{Webhooks: []config.Webhook{hook}, Policy: config.WebhookDefaults{RetryInitial: time.Millisecond, RetryMax: time.Millisecond, GiveUpAfter: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()

	for _, want := range []struct{ id, event string }{{"1", "message.sent"}, {"3", "message.failed"}} {
		d := <-got
		if d.id != want.id || d.event != want.event {
			t.Fatalf("delivered %s %s, want %s %s", d.id, d.event, want.id, want.event)
		}
		if sig := Signature(hook.Secrets[0], d.timestamp, d.body); d.signature != sig {
			t.Fatalf("event %s signed %s, want %s", d.id, d.signature, sig)
		}
	}
	// The cursor is saved before the next event goes out: while event 4 is
	// being delivered, the cursor stands past event 3.
	if err := st.Events.AppendEvent(ctx, "message.queued", "test", "obj", 2, map[string]string{}); err != nil {
		t.Fatal(err)
	}
	if d := <-got; d.id != "4" {
		t.Fatalf("delivered %s, want 4", d.id)
	}
	if c, err := st.Deliveries.GetWebhookCursor(ctx, hook.URL); err != nil || c.Cursor != 3 {
		t.Fatalf("cursor %+v (%v), want past event 3", c, err)
	}
}
