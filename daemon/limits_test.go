package daemon

import (
	"bufio"
	"net"
	"net/http"
	"testing"

	"github.com/gsmbridge/gsmbridge/daemon/config"
)

func TestConnectionsPastTheCapGet429(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })}
	done := make(chan struct{})
	go func() { srv.Serve(newLimitListener(ln, 2)); close(done) }()
	defer func() { srv.Close(); <-done }()

	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A request proves the server accepted (and counts) the connection.
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 204 {
			t.Fatalf("connection %d: %v %v", i, resp, err)
		}
		held = append(held, c)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third connection: %v %v, want 429", resp, err)
	}
	// Closing one frees its place.
	held[0].Close()
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err == nil && resp.StatusCode == 204 {
			return
		}
		// The server may not have seen the close yet; a 429 here is the
		// cap still counting the old connection.
		if err != nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("after a close: %v %v", resp, err)
		}
	}
}

func TestLongPollsPastTheCapGet429(t *testing.T) {
	h := startHarnessWith(t, func(c *config.Config) { c.LimitsHTTP.MaxLongPolls = 1 })
	done := make(chan int, 1)
	go func() {
		var out any
		done <- h.do("GET", "/v1/events?wait=2s&after=999999", nil, &out)
	}()
	eventually(t, "first long poll waiting", func() bool { return len(h.d.longPolls) == 1 })
	var e struct{ Error struct{ Code string } }
	if code := h.do("GET", "/v1/events?wait=2s&after=999999", nil, &e); code != http.StatusTooManyRequests {
		t.Fatalf("second long poll: %d, want 429", code)
	}
	if e.Error.Code != "too_many_long_polls" {
		t.Fatalf("code %q", e.Error.Code)
	}
	// A plain request still gets through while the long poll waits.
	var ev any
	if code := h.do("GET", "/v1/events", nil, &ev); code != http.StatusOK {
		t.Fatalf("plain request: %d", code)
	}
	if code := <-done; code != http.StatusOK {
		t.Fatalf("the waiting long poll ended with %d", code)
	}
}
