package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
)

// maxAnswerBytes caps what is read of one answer, so that an address
// pointing at something that streams forever cannot eat the memory.
const maxAnswerBytes = 64 << 20

// ErrAddress is returned by New for an address it cannot use.
var ErrAddress = errors.New("address")

// Client talks to one daemon. It is safe for concurrent use. Its fields
// are the API's areas: c.Confirmations.Create, c.Messages.Send, ...
type Client struct {
	Messages      Messages
	Confirmations Confirmations
	Inbox         Inbox
	Events        Events
	Modems        Modems
	SIMs          SIMs
	USSD          USSD
	Ops           Ops
	Hosts         Hosts

	base    *url.URL
	token   string
	timeout time.Duration
	http    *http.Client
	own     bool // the transport is ours to close
}

type options struct {
	token   string
	timeout time.Duration
	http    *http.Client
	ca      []byte
	cert    *tls.Certificate
	err     error
}

// Option sets up a Client.
type Option func(*options)

// WithToken sends token as the bearer token of every request.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithTimeout bounds every request (30s unless set); a long poll may take
// its wait on top.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithHTTPClient uses hc for every request instead of a client of the
// Client's own; WithCA and WithClientCert then do not apply.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.http = hc } }

// WithCA trusts the CA certificates in pem (a private CA the daemon's
// certificate is signed by) instead of the system's.
func WithCA(pem []byte) Option { return func(o *options) { o.ca = pem } }

// WithClientCert presents cert to a daemon that asks for one.
func WithClientCert(cert tls.Certificate) Option { return func(o *options) { o.cert = &cert } }

// WithTLSFiles reads a CA file and a client certificate and key, each
// optional (""), as WithCA and WithClientCert.
func WithTLSFiles(caFile, certFile, keyFile string) Option {
	return func(o *options) {
		if caFile != "" {
			pem, err := os.ReadFile(caFile)
			if err != nil {
				o.err = errors.Join(o.err, fmt.Errorf("CA: %w", err))
			}
			o.ca = pem
		}
		if certFile != "" || keyFile != "" {
			if certFile == "" || keyFile == "" {
				o.err = errors.Join(o.err, errors.New("a client certificate needs both its certificate and its key"))
				return
			}
			cert, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				o.err = errors.Join(o.err, fmt.Errorf("client certificate: %w", err))
				return
			}
			o.cert = &cert
		}
	}
}

// New returns a client of the daemon at base ("http://127.0.0.1:8780";
// "host:port" means http). Close it when done.
func New(base string, opts ...Option) (*Client, error) {
	o := options{timeout: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	addr := base
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("%w %q: want http://host:port or https://host:port", ErrAddress, base)
	}
	if o.err != nil {
		return nil, o.err
	}
	if o.timeout <= 0 {
		return nil, errors.New("the timeout must be positive")
	}
	u.Path = ""
	c := &Client{base: u, token: o.token, timeout: o.timeout, http: o.http}
	if c.http == nil {
		tr := &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 2}
		if o.ca != nil || o.cert != nil {
			cfg := &tls.Config{MinVersion: tls.VersionTLS12}
			if o.ca != nil {
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(o.ca) {
					return nil, errors.New("CA: no PEM certificate found")
				}
				cfg.RootCAs = pool
			}
			if o.cert != nil {
				cfg.Certificates = []tls.Certificate{*o.cert}
			}
			tr.TLSClientConfig = cfg
		}
		c.http, c.own = &http.Client{Transport: tr}, true
	}
	c.Messages, c.Confirmations, c.Inbox, c.Events = Messages{c}, Confirmations{c}, Inbox{c}, Events{c}
	c.Modems, c.SIMs, c.USSD, c.Ops, c.Hosts = Modems{c}, SIMs{c}, USSD{c}, Ops{c}, Hosts{c}
	return c, nil
}

// The API's areas, each a field of Client.
type (
	// Messages sends SMS and follows them.
	Messages struct{ c *Client }
	// Confirmations asks customers to confirm payments.
	Confirmations struct{ c *Client }
	// Inbox reads received SMS.
	Inbox struct{ c *Client }
	// Events reads the event log and the webhooks' state.
	Events struct{ c *Client }
	// Modems reads the modems.
	Modems struct{ c *Client }
	// SIMs reads and resumes SIMs and reads their balances.
	SIMs struct{ c *Client }
	// USSD runs USSD sessions.
	USSD struct{ c *Client }
	// Ops is the operator's: storage, readiness, backups.
	Ops struct{ c *Client }
	// Hosts lists a fleet's hosts and releases a dead one's work.
	Hosts struct{ c *Client }
)

// Base is the daemon's address as the client uses it.
func (c *Client) Base() string { return c.base.String() }

// Timeout is how long one request may take.
func (c *Client) Timeout() time.Duration { return c.timeout }

// Close lets go of the client's idle connections.
func (c *Client) Close() {
	if c.own {
		c.http.CloseIdleConnections()
	}
}

// Request is one call of the API; Query, Header and Body are optional.
// Path is escaped: an id in it goes through url.PathEscape. Body is encoded
// as JSON.
type Request struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         any
	// Wait is added to the timeout: the daemon holds a long poll this long.
	Wait time.Duration
}

// Do runs r and, when out is not nil, decodes the answer's JSON into it.
// It returns the answer as it came, for callers that show it verbatim. An
// answer other than 2xx is an *Error.
func (c *Client) Do(ctx context.Context, r Request, out any) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout+r.Wait)
	defer cancel()
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, c.answerError(resp, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("%s %s: the daemon's answer is not the JSON expected: %w", r.Method, r.Path, err)
		}
	}
	return data, nil
}

// Get is Do for a GET of path.
func (c *Client) Get(ctx context.Context, path string, query url.Values, out any) ([]byte, error) {
	return c.Do(ctx, Request{Method: http.MethodGet, Path: path, Query: query}, out)
}

// send makes the HTTP request of r.
func (c *Client) send(ctx context.Context, r Request) (*http.Response, error) {
	u := *c.base
	// Path is escaped already; set as u.Path it would be escaped again,
	// and an id holding "/" or "%" would reach the daemon as another id.
	path, err := url.PathUnescape(r.Path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	u.Path, u.RawPath = path, r.Path
	u.RawQuery = r.Query.Encode()
	var body io.Reader
	if r.Body != nil {
		b, err := json.Marshal(r.Body)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	if r.Body != nil || r.Method != http.MethodGet {
		// The daemon refuses a write without it, even with no body: that
		// is what keeps web pages from posting to it.
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	return resp, nil
}

func (c *Client) transportError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot connect to %s: %w", c.base, syscall.ECONNREFUSED)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("no answer from %s within %s: %w", c.base, c.timeout, context.DeadlineExceeded)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("interrupted: %w", context.Canceled)
	}
	// url.Error repeats the method and the whole URL; the cause is enough.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("talking to %s: %w", c.base, err)
}
