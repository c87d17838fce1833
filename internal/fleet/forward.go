package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/nats-io/nats.go"
)

// ForwardedHeader marks a read another host passed here: it is answered
// from this host's own store, never passed on again.
const ForwardedHeader = "Gsmbridge-Forwarded-By"

// ErrHostDown: the host that holds the work does not answer.
var ErrHostDown = errors.New("the host holding it does not answer")

// forwardedRead is a request one host asks another to answer, because the
// other holds the work: GET /v1/messages/{id} and confirmations with their
// long polls answer on any host, and a confirmation is cancelled where it
// is, and a repeated POST of it answered there.
type forwardedRead struct {
	Method string          `json:"method,omitempty"` // "" is GET
	Path   string          `json:"path"`
	Query  string          `json:"query,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
}

type forwardedAnswer struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

// Forwarder passes reads to the host that holds the work, and answers
// those passed to this host.
type Forwarder struct{ c *Conn }

// Forward returns this host's forwarder.
func (c *Conn) Forward() *Forwarder { return &Forwarder{c} }

func (f *Forwarder) subject(host string) string {
	return f.c.cfg.Names.Subject + ".api." + host + ".read"
}

// Serve answers reads other hosts forward to this one with h (the
// host's own API, without the fleet's forwarding, so a read is never
// passed on twice) until ctx ends. Each read runs on its own goroutine:
// a long poll must not hold up the others.
func (f *Forwarder) Serve(ctx context.Context, h http.Handler) error {
	sub, err := f.c.nc.Subscribe(f.subject(f.c.host), func(m *nats.Msg) {
		var req forwardedRead
		if err := json.Unmarshal(m.Data, &req); err != nil {
			return
		}
		go func() {
			method := req.Method
			if method == "" {
				method = http.MethodGet
			}
			r, err := http.NewRequestWithContext(ctx, method, (&url.URL{Path: req.Path, RawQuery: req.Query}).String(), bytes.NewReader(req.Body))
			if err != nil {
				return
			}
			if len(req.Body) > 0 {
				r.Header.Set("Content-Type", "application/json")
			}
			r.RemoteAddr = "fleet"
			r.Header.Set(ForwardedHeader, f.c.host)
			w := &answerWriter{header: http.Header{}, status: http.StatusOK}
			h.ServeHTTP(w, r)
			b, _ := json.Marshal(forwardedAnswer{Status: w.status, Body: w.body.Bytes()})
			m.Respond(b)
		}()
	})
	if err != nil {
		return unavailable("serving forwarded reads", err)
	}
	<-ctx.Done()
	return sub.Unsubscribe()
}

// Read asks host to answer a GET of path?query and returns its status and
// JSON body. The context bounds it: give it the long poll's wait plus a
// margin. ErrHostDown says nobody answered for host.
func (f *Forwarder) Read(ctx context.Context, host, path, query string) (int, json.RawMessage, error) {
	return f.Do(ctx, host, http.MethodGet, path, query, nil)
}

// Do is Read for a request of any method, with a JSON body or none.
func (f *Forwarder) Do(ctx context.Context, host, method, path, query string, body json.RawMessage) (int, json.RawMessage, error) {
	if method == http.MethodGet {
		method = "" // as hosts that know only reads send it
	}
	b, _ := json.Marshal(forwardedRead{Method: method, Path: path, Query: query, Body: body})
	m, err := f.c.nc.RequestWithContext(ctx, f.subject(host), b)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return 0, nil, fmt.Errorf("%s: %w", host, ErrHostDown)
	case err != nil && ctx.Err() != nil:
		return 0, nil, fmt.Errorf("%s: %w: %w", host, ErrHostDown, err)
	case err != nil:
		return 0, nil, unavailable("forwarding a read to "+host, err)
	}
	var a forwardedAnswer
	if err := json.Unmarshal(m.Data, &a); err != nil {
		return 0, nil, fmt.Errorf("fleet: answer from %s: %w", host, err)
	}
	return a.Status, a.Body, nil
}

// answerWriter keeps what a handler wrote, to send back as one answer.
type answerWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *answerWriter) Header() http.Header         { return w.header }
func (w *answerWriter) WriteHeader(status int)      { w.status = status }
func (w *answerWriter) Write(b []byte) (int, error) { return w.body.Write(b) }
