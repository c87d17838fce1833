package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// defaultAddr is where `gsmbridge serve` listens unless configured otherwise.
const defaultAddr = "http://127.0.0.1:8780"

// maxAnswerBytes caps what the CLI reads from one answer, so that a wrong
// --addr pointing at something that streams forever cannot eat the memory.
const maxAnswerBytes = 64 << 20

// clientFlags are the flags every verb that talks to the daemon shares.
type clientFlags struct {
	addr    string
	token   string
	timeout time.Duration
	json    bool
}

// addClientFlags registers the shared flags on fs. Defaults come from the
// environment so that the token need not appear in shell history or ps.
func addClientFlags(fs *verbFlags) *clientFlags {
	f := &clientFlags{}
	addr := os.Getenv("GSMBRIDGE_ADDR")
	if addr == "" {
		addr = defaultAddr
	}
	fs.StringVar(&f.addr, "addr", addr, "daemon address (env GSMBRIDGE_ADDR)")
	fs.StringVar(&f.token, "token", os.Getenv("GSMBRIDGE_TOKEN"), "API token (env GSMBRIDGE_TOKEN; prefer the environment: flags show in ps)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long one request to the daemon may take")
	fs.BoolVar(&f.json, "json", false, "print the API's JSON instead of a table")
	return f
}

// client checks the shared flags and returns a client for them. Close it when
// done: it keeps its own connections so that nothing outlives the verb.
func (f *clientFlags) client() (*apiClient, error) {
	addr := f.addr
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, usageError{fmt.Sprintf("--addr %q: want http://host:port such as %s", f.addr, defaultAddr)}
	}
	if f.timeout <= 0 {
		return nil, usageError{"--timeout must be positive"}
	}
	u.Path = ""
	return &apiClient{
		base:    u,
		token:   f.token,
		timeout: f.timeout,
		http:    &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 2}},
	}, nil
}

// apiClient talks to a running daemon's HTTP API. It is safe for concurrent
// use, though the verbs use it from one goroutine.
type apiClient struct {
	base    *url.URL
	token   string
	timeout time.Duration
	http    *http.Client
}

func (c *apiClient) Close() { c.http.CloseIdleConnections() }

// apiError is an error answer of the daemon: {"error":{code,message,field}}.
type apiError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
	// hint says what the user can do about it, when the CLI knows better
	// than the daemon (the daemon cannot tell whether a token was given).
	hint string
}

func (e *apiError) Error() string {
	msg := e.Message
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.hint != "" {
		msg += "; " + e.hint
	}
	return msg
}

// request describes one call; query, header and body are optional.
type request struct {
	method, path string
	query        url.Values
	header       http.Header
	body         any
}

// do performs r and returns the answer's body when the status is 2xx, else
// an *apiError (or a transport error that says what to check).
func (c *apiClient) do(ctx context.Context, r request) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := *c.base
	u.Path = r.path
	u.RawQuery = r.query.Encode()
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	if r.body != nil || r.method != http.MethodGet {
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
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	if resp.StatusCode/100 == 2 {
		return data, nil
	}
	return nil, c.answerError(resp, data)
}

// get fetches path and decodes its JSON into out; it returns the raw body too
// for --json.
func (c *apiClient) get(ctx context.Context, path string, query url.Values, out any) ([]byte, error) {
	data, err := c.do(ctx, request{method: http.MethodGet, path: path, query: query})
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("GET %s: the daemon's answer is not the JSON expected: %w", path, err)
	}
	return data, nil
}

func (c *apiClient) transportError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot connect to %s (%w): is the daemon running? (gsmbridge serve)", c.base, syscall.ECONNREFUSED)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("no answer from %s within %s (--timeout): %w", c.base, c.timeout, context.DeadlineExceeded)
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

func (c *apiClient) answerError(resp *http.Response, data []byte) error {
	var body struct {
		Error *apiError `json:"error"`
	}
	e := &apiError{Status: resp.StatusCode}
	if json.Unmarshal(data, &body) == nil && body.Error != nil && body.Error.Message != "" {
		e.Code, e.Message, e.Field = body.Error.Code, body.Error.Message, body.Error.Field
	} else {
		// Not our daemon's error shape: a proxy, or --addr points elsewhere.
		e.Message = fmt.Sprintf("HTTP %s from %s", resp.Status, c.base)
		if body := strings.TrimSpace(string(data)); body != "" {
			e.Message += ": " + cleanCell(body, 200)
		}
	}
	if resp.StatusCode == http.StatusUnauthorized {
		if c.token == "" {
			e.hint = "give --token or set GSMBRIDGE_TOKEN"
		} else {
			e.hint = "the daemon refused the token given; check --token or GSMBRIDGE_TOKEN"
		}
	}
	return e
}

// fetchView runs a client verb that takes no arguments and shows one API
// answer: it reads the flags, fetches path into answer, and with --json
// prints the daemon's answer as it came (printed is then true).
func fetchView(ctx context.Context, fs *verbFlags, args []string, stdout io.Writer, path string, answer any) (printed bool, err error) {
	cf := addClientFlags(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return false, err
	}
	if err := noArgs(pos); err != nil {
		return false, err
	}
	c, err := cf.client()
	if err != nil {
		return false, err
	}
	defer c.Close()
	data, err := c.get(ctx, path, nil, answer)
	if err != nil {
		return false, err
	}
	if cf.json {
		_, err := stdout.Write(data)
		return true, err
	}
	return false, nil
}

// listingQuery builds the query of a paged listing, checking --state against
// the states the API knows and --limit against its range.
func listingQuery(state string, states []string, limit int, since string) (url.Values, error) {
	if state != "" && !slices.Contains(states, state) {
		return nil, usageError{fmt.Sprintf("--state %q: want one of %s", state, strings.Join(states, ", "))}
	}
	if limit < 1 || limit > 1000 {
		return nil, usageError{"--limit must be from 1 to 1000"}
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if state != "" {
		q.Set("state", state)
	}
	sinceTime, err := parseSince(since, time.Now())
	if err != nil {
		return nil, err
	}
	if sinceTime != "" {
		q.Set("since", sinceTime)
	}
	return q, nil
}

// doJSON runs r and decodes the daemon's answer into out, keeping the raw
// answer for --json.
func (c *apiClient) doJSON(ctx context.Context, r request, out any) ([]byte, error) {
	data, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("%s %s: the daemon's answer is not the JSON expected: %w", r.method, r.path, err)
	}
	return data, nil
}
