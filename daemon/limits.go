package daemon

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limitListener caps open connections. The serial library panics on file
// descriptors of 1024 and above and the process keeps its limit at 1024, so
// an HTTP client storm must never be allowed to use the descriptors the
// modems need. Past the cap a connection gets an immediate 429 and is closed,
// rather than waiting in the kernel's backlog.
type limitListener struct {
	net.Listener
	max int

	mu     sync.Mutex
	active int
}

func newLimitListener(l net.Listener, max int) *limitListener {
	return &limitListener{Listener: l, max: max}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if l.active >= l.max {
			l.mu.Unlock()
			refuse(c)
			continue
		}
		l.active++
		l.mu.Unlock()
		return &limitedConn{Conn: c, release: l.release}, nil
	}
}

func (l *limitListener) release() {
	l.mu.Lock()
	l.active--
	l.mu.Unlock()
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
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// errTooManyLongPolls answers a long poll past limits_http.max_long_polls.
var errTooManyLongPolls = &apiError{Status: http.StatusTooManyRequests, Code: "too_many_long_polls",
	Message: "too many requests are waiting already; retry shortly or poll without wait"}

// longPoll takes one of the long-poll places. Each waiting request holds a
// connection and a descriptor, so their number is capped apart from the
// connection cap: short requests must still get through.
func (d *Daemon) longPoll() (release func(), ok bool) {
	select {
	case d.longPolls <- struct{}{}:
		return func() { <-d.longPolls }, true
	default:
		return nil, false
	}
}
