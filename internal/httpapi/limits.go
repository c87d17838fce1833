package httpapi

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
)

// LimitListener caps open connections. The serial library panics on file
// descriptors of 1024 and above and the process keeps its limit at 1024, so
// an HTTP client storm must never be allowed to use the descriptors the
// modems need.
//
// At the cap a new connection takes the place of one that holds a place
// without using it: one still sending its request header, or idle between
// requests. The victim comes from the remote address holding most such
// connections, its oldest first, so a few hundred slow or idle connections
// (one client's pool, a slowloris) cost their owner, not everyone else.
// Connections in a request are never closed: only when every place serves a
// request does a newcomer get an immediate 429 and close, rather than wait
// in the kernel's backlog. A per-address cap alone would not do: the payment
// core and a misbehaving local tool often share 127.0.0.1.
type LimitListener struct {
	net.Listener
	max int
	now func() time.Time

	mu    sync.Mutex
	conns map[*limitedConn]struct{} // the places taken
}

// NewLimitListener caps l at max connections.
func NewLimitListener(l net.Listener, max int) *LimitListener {
	return &LimitListener{Listener: l, max: max, now: time.Now, conns: map[*limitedConn]struct{}{}}
}

func (l *LimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitedConn{Conn: c, l: l, host: remoteHost(c), since: l.now()}
		l.mu.Lock()
		var victim *limitedConn
		if len(l.conns) >= l.max {
			victim = l.evictable()
			if victim == nil {
				l.mu.Unlock()
				refuse(c)
				continue
			}
			delete(l.conns, victim)
		}
		l.conns[lc] = struct{}{}
		l.mu.Unlock()
		if victim != nil {
			// The server's read fails and it closes the connection; an
			// idle client sees a clean close, as after IdleTimeout.
			victim.Conn.Close()
		}
		return lc, nil
	}
}

// evictable picks the connection to close for a newcomer, or nil when every
// place serves a request. Called with l.mu held.
func (l *LimitListener) evictable() *limitedConn {
	perHost := map[string]int{}
	for c := range l.conns {
		if c.waiting() {
			perHost[c.host]++
		}
	}
	var victim *limitedConn
	for c := range l.conns {
		if !c.waiting() {
			continue
		}
		switch {
		case victim == nil,
			perHost[c.host] > perHost[victim.host],
			perHost[c.host] == perHost[victim.host] && c.since.Before(victim.since):
			victim = c
		}
	}
	return victim
}

// ServerWriteTimeout bounds how long one answer may take to write; long
// polls stay well inside it (MaxLongPoll), and the configuration holds the
// USSD waits of a request to it.
const ServerWriteTimeout = config.HTTPWriteTimeout

// MaxHeaderBytes caps a request's header: no client of the API needs more,
// and Go's default of 1 MB let 250 requests take 110 MB of memory. Past it
// the server answers 431.
const MaxHeaderBytes = 64 << 10

// NewServer sets the server's limits; lim must be the listener served.
func NewServer(handler http.Handler, lim *LimitListener) *http.Server {
	return &http.Server{
		Handler:           lim.serve(handler),
		ConnContext:       lim.connContext,
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      ServerWriteTimeout,
		IdleTimeout:       2 * time.Minute,
	}
}

type connKey struct{}

// connContext is the server's ConnContext hook: it lets serve find the
// connection a request came on.
func (l *LimitListener) connContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		// ServeTLS wraps the listener's connections.
		c = tc.NetConn()
	}
	return context.WithValue(ctx, connKey{}, c)
}

// serve marks a connection as in a request while the handler runs. The
// server's own ConnState cannot tell: a connection counts as active from
// the first byte of a header that may never end.
func (l *LimitListener) serve(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lc, ok := r.Context().Value(connKey{}).(*limitedConn)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		l.mark(lc, true)
		defer l.mark(lc, false)
		next.ServeHTTP(w, r)
	})
}

func (l *LimitListener) mark(c *limitedConn, serving bool) {
	l.mu.Lock()
	c.serving, c.since = serving, l.now()
	l.mu.Unlock()
}

func (l *LimitListener) release(c *limitedConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

func remoteHost(c net.Conn) string {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

const tooBusyBody = `{"error":{"code":"too_many_connections","message":"too many open connections; retry shortly"}}` + "\n"

var tooBusy = []byte("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nConnection: close\r\nRetry-After: 1\r\n" +
	"Content-Length: " + strconv.Itoa(len(tooBusyBody)) + "\r\n\r\n" + tooBusyBody)

func refuse(c net.Conn) {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Write(tooBusy)
	c.Close()
}

type limitedConn struct {
	net.Conn
	l    *LimitListener
	host string
	once sync.Once
	// serving (a handler runs for it) and since (when it was accepted or
	// last finished a request) are guarded by l.mu.
	serving bool
	since   time.Time
}

// waiting tells a connection that holds a place without a request in a
// handler: reading a header, or idle between requests. Called with l.mu held.
func (c *limitedConn) waiting() bool { return !c.serving }

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c) })
	return err
}
