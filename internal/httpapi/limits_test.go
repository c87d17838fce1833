package httpapi

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/httpapi/tlstest"
)

// serveLimited serves handler through NewServer's settings and
// connection limiter, capped at max connections.
func serveLimited(t *testing.T, max int, handler http.Handler) (addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := NewLimitListener(ln, max)
	srv := NewServer(handler, lim)
	ended := connsEnded(srv)
	done := make(chan struct{})
	go func() { srv.Serve(lim); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done; ended() })
	return ln.Addr().String()
}

// connsEnded returns a wait for every connection srv serves to end, so no
// server goroutine outlives its test: after a 431 the server holds the
// connection for half a second before closing it. Set before serving.
func connsEnded(srv *http.Server) (wait func()) {
	var wg sync.WaitGroup
	srv.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			wg.Add(1)
		case http.StateClosed, http.StateHijacked:
			wg.Done()
		}
	}
	return wg.Wait
}

// dialFrom connects from a given loopback address (127.0.0.0/8 is all
// local), so one test can play several clients.
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends one request on c and returns the answer's status, or 0
// when the connection was closed instead.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader) int {
	t.Helper()
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestConnectionsPastTheCapGet429WhenEveryPlaceServes(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	addr := serveLimited(t, 2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			entered <- struct{}{}
			<-release
		}
		w.WriteHeader(204)
	}))
	var held []*bufio.Reader
	var heldConns []net.Conn
	for i := 0; i < 2; i++ {
		c := dialFrom(t, "127.0.0.1", addr)
		c.Write([]byte("GET /block HTTP/1.1\r\nHost: x\r\n\r\n"))
		<-entered
		held, heldConns = append(held, bufio.NewReader(c)), append(heldConns, c)
	}
	c := dialFrom(t, "127.0.0.1", addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third connection while both places serve: %v %v, want 429", resp, err)
	}
	close(release)
	for i, br := range held {
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 204 {
			t.Fatalf("blocked request %d: %v %v", i, resp, err)
		}
	}
	// Both are idle now: a newcomer takes the place of one.
	c = dialFrom(t, "127.0.0.1", addr)
	if code := roundTrip(t, c, bufio.NewReader(c)); code != 204 {
		t.Fatalf("newcomer once the places are idle: %d, want 204", code)
	}
}

// Hundreds of connections that send their header slowly or sit idle used to
// take every place: everyone else got 429 for as long as they lasted.
func TestSlowAndIdleConnectionsCannotStarveOthers(t *testing.T) {
	const max = 20
	addr := serveLimited(t, max, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	// One noisy client at 127.0.0.2: idle keep-alives and slow headers,
	// more than the cap.
	for i := 0; i < 3*max; i++ {
		c := dialFrom(t, "127.0.0.2", addr)
		if i%2 == 0 {
			roundTrip(t, c, bufio.NewReader(c))
		} else {
			c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "))
		}
	}
	// The payment core at 127.0.0.1 keeps two connections open and gets
	// its answers on them and on new ones.
	var own []net.Conn
	var ownR []*bufio.Reader
	for i := 0; i < 2; i++ {
		c := dialFrom(t, "127.0.0.1", addr)
		br := bufio.NewReader(c)
		if code := roundTrip(t, c, br); code != 204 {
			t.Fatalf("payment core connection %d: %d, want 204", i, code)
		}
		own, ownR = append(own, c), append(ownR, br)
	}
	// More noise: newcomers from the noisy client evict its own places.
	for i := 0; i < max; i++ {
		c := dialFrom(t, "127.0.0.2", addr)
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "))
	}
	for i, c := range own {
		if code := roundTrip(t, c, ownR[i]); code != 204 {
			t.Fatalf("payment core's kept connection %d after the noise: %d, want 204", i, code)
		}
	}
	for i := 0; i < 10; i++ {
		c := dialFrom(t, "127.0.0.3", addr)
		if code := roundTrip(t, c, bufio.NewReader(c)); code != 204 {
			t.Fatalf("another client's request %d: %d, want 204", i, code)
		}
		c.Close()
	}
}

// countingListener counts the bytes the server read from each connection.
type countingListener struct {
	net.Listener
	read atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &l.read}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestHugeHeaderGets431AndIsNotBuffered(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &countingListener{Listener: raw}
	lim := NewLimitListener(ln, 4)
	srv := NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }), lim)
	ended := connsEnded(srv)
	done := make(chan struct{})
	go func() { srv.Serve(lim); close(done) }()
	defer func() { srv.Close(); <-done; ended() }()

	c := dialFrom(t, "127.0.0.1", raw.Addr().String())
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1<<20) + "\r\n\r\n"))
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("1 MB header: %v %v, want 431", resp, err)
	}
	c.Close()
	<-wrote
	// Go reads up to the cap plus 4 KiB of slack, in 4 KiB buffers.
	if n := ln.read.Load(); n > MaxHeaderBytes+16<<10 {
		t.Fatalf("server read %d bytes of a 1 MB header, want at most about %d", n, MaxHeaderBytes)
	}
}

// Under TLS the server sees tls.Conn wrappers; a request in a handler must
// still count as one, or a newcomer would close it mid-answer.
func TestTLSRequestInAHandlerIsNeverEvicted(t *testing.T) {
	ca := tlstest.NewCA(t, "limits test CA")
	certPEM, keyPEM := ca.Issue(2, false)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	lim := NewLimitListener(ln, 1)
	srv := NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(204)
	}), lim)
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	ended := connsEnded(srv)
	done := make(chan struct{})
	go func() { srv.ServeTLS(lim, "", ""); close(done) }()
	defer func() { srv.Close(); <-done; ended() }()

	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	defer tr.CloseIdleConnections()
	answer := make(chan int, 1)
	go func() {
		resp, err := (&http.Client{Transport: tr}).Get("https://" + ln.Addr().String() + "/")
		if err != nil {
			answer <- 0
			return
		}
		resp.Body.Close()
		answer <- resp.StatusCode
	}()
	<-entered
	// A newcomer at the cap finds no place to take and is refused.
	c := dialFrom(t, "127.0.0.1", ln.Addr().String())
	if _, err := io.ReadAll(c); err != nil {
		t.Fatal(err)
	}
	close(release)
	if code := <-answer; code != 204 {
		t.Fatalf("the request in its handler got %d, want 204 (it was closed for the newcomer)", code)
	}
}
