package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/service"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// startEventsDaemon runs a real daemon without modems over a data directory
// whose log already holds the given event types; it returns the daemon's
// address and a function that makes one more event (message.cancelled).
func startEventsDaemon(t *testing.T, types ...string) (addr string, cancelMessage func()) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, typ := range types {
		if err := st.Events.AppendEvent(context.Background(), typ, "test", fmt.Sprintf("obj-%d", i), 1, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Auth.Tokens = nil
	d, err := service.New(cfg, service.Options{Observe: checkAnswers(t)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon Run: %v", err)
		}
	})
	addr = "http://" + ln.Addr().String()
	// With the daemon holding the data directory, new events come the way
	// they do in production: a message accepted and cancelled through the API.
	cancelMessage = func() {
		t.Helper()
		resp, err := http.Post(addr+"/v1/messages", "application/json", strings.NewReader(`{"to":"+79161234567","text":"Код 1"}`))
		if err != nil {
			t.Fatal(err)
		}
		var acc struct{ ID string }
		json.NewDecoder(resp.Body).Decode(&acc)
		resp.Body.Close()
		req, _ := http.NewRequest("DELETE", addr+"/v1/messages/"+acc.ID, nil)
		req.Header.Set("Content-Type", "application/json")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("cancel: %d %s", resp.StatusCode, b)
		}
	}
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	return addr, cancelMessage
}

func TestEventsVerbPrintsTheLogAndFilters(t *testing.T) {
	addr, _ := startEventsDaemon(t, "sim.a", "sim.b", "modem.c")
	cases := []struct {
		args []string
		want []string // event types, in order
	}{
		{nil, []string{"sim.a", "sim.b", "modem.c"}},
		{[]string{"--type", "sim.*"}, []string{"sim.a", "sim.b"}},
		{[]string{"--type", "modem.c", "--type", "sim.b"}, []string{"sim.b", "modem.c"}},
		{[]string{"--after", "2"}, []string{"modem.c"}},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		args := append([]string{"events", "--addr", addr, "--json"}, c.args...)
		if code := run(context.Background(), args, &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errOut.String())
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if line == "" {
				continue
			}
			var ev api.Event
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("%v: line %q: %v", c.args, line, err)
			}
			got = append(got, ev.Type)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%v: %v, want %v", c.args, got, c.want)
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"events", "--addr", addr}, &out, &errOut); code != 0 {
		t.Fatalf("table: exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[3], "modem.c") || !strings.Contains(lines[3], "test/obj-2 #1") {
		t.Fatalf("table:\n%s", out.String())
	}
	for _, bad := range [][]string{{"--after", "-1"}, {"extra"}, {"--type", "Bad"}, {"--type", "bogus"}} {
		errOut.Reset()
		code := run(context.Background(), append([]string{"events", "--addr", addr}, bad...), &out, &errOut)
		if code == 0 {
			t.Errorf("%v: exit 0", bad)
		}
	}
}

func TestEventsFollowPrintsNewEventsUntilInterrupted(t *testing.T) {
	addr, cancelMessage := startEventsDaemon(t, "test.old")
	ctx, stop := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"events", "--addr", addr, "--follow", "--json", "--type", "message.*"}, &out, &bytes.Buffer{})
	}()
	cancelMessage()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), `"type":"message.cancelled"`) {
		if time.Now().After(deadline) {
			t.Fatalf("follow printed %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if code := <-done; code != 0 {
		t.Fatalf("follow exit %d", code)
	}
	if strings.Contains(out.String(), "test.old") {
		t.Fatalf("filter let through %q", out.String())
	}
}
