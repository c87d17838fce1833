package fleet

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
)

func TestAReadIsAnsweredByTheHostHoldingTheWork(t *testing.T) {
	nats := fleettest.Start(t, 1)
	f := fleetConfig(nats.URLs(), 1)
	a, b := newHost(t, f, "a"), newHost(t, f, "b")
	ctx, cancel := context.WithCancel(t.Context())
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/messages/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("wait") != "" {
			<-release // a long poll held until the state changes
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"` + r.PathValue("id") + `","state":"sent"}`))
	})
	mux.HandleFunc("DELETE /v1/confirmations/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
		w.Write([]byte(`{"id":"` + r.PathValue("id") + `","state":"confirmed"}`))
	})
	mux.HandleFunc("POST /v1/confirmations", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write([]byte(`{"type":"` + r.Header.Get("Content-Type") + `","body":` + string(b) + `}`))
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.conn.Forward().Serve(ctx, mux) }()
	// The subscription is in place once a request finds a responder.
	eventually(t, "a serves reads", func() bool {
		_, _, err := b.conn.Forward().Read(ctx, "a", "/v1/messages/msg_0", "")
		return err == nil
	})

	status, body, err := b.conn.Forward().Read(ctx, "a", "/v1/messages/msg_1", "")
	if err != nil || status != 200 || string(body) != `{"id":"msg_1","state":"sent"}` {
		t.Fatalf("read: %d %s %v", status, body, err)
	}
	status, body, err = b.conn.Forward().Do(ctx, "a", http.MethodDelete, "/v1/confirmations/pay:1", "", nil)
	if err != nil || status != 409 || string(body) != `{"id":"pay:1","state":"confirmed"}` {
		t.Fatalf("delete: %d %s %v", status, body, err)
	}
	status, body, err = b.conn.Forward().Do(ctx, "a", http.MethodPost, "/v1/confirmations", "", []byte(`{"id":"pay:1"}`))
	if err != nil || status != 200 || string(body) != `{"type":"application/json","body":{"id":"pay:1"}}` {
		t.Fatalf("post: %d %s %v", status, body, err)
	}
	// A long poll forwarded waits on the holder, and other reads pass it.
	polled := make(chan string)
	go func() {
		_, body, err := b.conn.Forward().Read(ctx, "a", "/v1/messages/msg_2", "wait=30s")
		if err != nil {
			polled <- err.Error()
			return
		}
		polled <- string(body)
	}()
	if _, body, err := b.conn.Forward().Read(ctx, "a", "/v1/messages/msg_3", ""); err != nil || string(body) != `{"id":"msg_3","state":"sent"}` {
		t.Fatalf("a read beside a long poll: %s %v", body, err)
	}
	close(release)
	if got := <-polled; got != `{"id":"msg_2","state":"sent"}` {
		t.Fatalf("long poll: %s", got)
	}

	short, stop := context.WithTimeout(ctx, 2*time.Second)
	defer stop()
	if _, _, err := a.conn.Forward().Read(short, "c", "/v1/messages/msg_1", ""); !errors.Is(err, ErrHostDown) {
		t.Fatalf("read from a host that is not there: %v", err)
	}
	cancel()
	wg.Wait()
}
