package main

import (
	"context"
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

	"github.com/gsmbridge/gsmbridge/client"
)

// defaultAddr is where `gsmbridge serve` listens unless configured otherwise.
const defaultAddr = "http://127.0.0.1:8780"

// clientFlags are the flags every verb that talks to the daemon shares.
type clientFlags struct {
	addr          string
	token         string
	ca, cert, key string
	timeout       time.Duration
	json          bool
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
	fs.StringVar(&f.ca, "ca", os.Getenv("GSMBRIDGE_CA"), "PEM file of the CA that signed the daemon's certificate, for https (env GSMBRIDGE_CA)")
	fs.StringVar(&f.cert, "cert", os.Getenv("GSMBRIDGE_CERT"), "PEM file of a client certificate for a daemon that asks for one (env GSMBRIDGE_CERT)")
	fs.StringVar(&f.key, "key", os.Getenv("GSMBRIDGE_KEY"), "PEM file of the client certificate's key (env GSMBRIDGE_KEY)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long one request to the daemon may take")
	fs.BoolVar(&f.json, "json", false, "print the API's JSON instead of a table")
	return f
}

// client checks the shared flags and returns a client for them. Close it when
// done: it keeps its own connections so that nothing outlives the verb.
func (f *clientFlags) client() (*apiClient, error) {
	c, err := client.New(f.addr, client.WithToken(f.token), client.WithTimeout(f.timeout),
		client.WithTLSFiles(f.ca, f.cert, f.key))
	switch {
	case errors.Is(err, client.ErrAddress):
		return nil, usageError{fmt.Sprintf("--addr %q: want http://host:port such as %s", f.addr, defaultAddr)}
	case f.timeout <= 0:
		return nil, usageError{"--timeout must be positive"}
	case (f.cert == "") != (f.key == ""):
		return nil, usageError{"--cert and --key go together"}
	case err != nil:
		return nil, err
	}
	return &apiClient{Client: c}, nil
}

// apiClient is the daemon's Go client with the CLI's way of saying what
// went wrong: which flag or command helps.
type apiClient struct {
	*client.Client
	// slack is added to every request's timeout, for verbs whose answer
	// waits on the network (USSD, a balance refresh).
	slack time.Duration
}

// atLeast lets every request take at least d.
func (c *apiClient) atLeast(d time.Duration) { c.slack = max(c.slack, d-c.Timeout()) }

// do runs r and returns the answer's body when the status is 2xx.
func (c *apiClient) do(ctx context.Context, r client.Request) ([]byte, error) {
	return c.doJSON(ctx, r, nil)
}

// doJSON runs r and decodes the daemon's answer into out, keeping the raw
// answer for --json.
func (c *apiClient) doJSON(ctx context.Context, r client.Request, out any) ([]byte, error) {
	r.Wait += c.slack
	data, err := c.Do(ctx, r, out)
	return data, c.explain(err)
}

// get fetches path and decodes its JSON into out; it returns the raw body too
// for --json.
func (c *apiClient) get(ctx context.Context, path string, query url.Values, out any) ([]byte, error) {
	return c.doJSON(ctx, client.Request{Method: http.MethodGet, Path: path, Query: query}, out)
}

// explain adds what the user can do about err, when the CLI knows better
// than the daemon or the client.
func (c *apiClient) explain(err error) error {
	var e *client.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e) && e.Status == http.StatusUnauthorized:
		if e.NoToken {
			return fmt.Errorf("%w; give --token or set GSMBRIDGE_TOKEN", err)
		}
		return fmt.Errorf("%w; the daemon refused the token given; check --token or GSMBRIDGE_TOKEN", err)
	case errors.As(err, &e):
		return err
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot connect to %s (%w): is the daemon running? (gsmbridge serve)", c.Base(), syscall.ECONNREFUSED)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no answer from %s within %s (--timeout): %w", c.Base(), c.Timeout()+c.slack, context.DeadlineExceeded)
	}
	return err
}

// fetchView runs a client verb that takes no arguments and shows one API
// answer: it reads the flags, fetches path into answer, and with --json
// prints the daemon's answer as it came (printed is then true).
func fetchView(ctx context.Context, fs *verbFlags, args []string, stdout io.Writer, path string, answer any) (printed bool, err error) {
	return fetchViewQuery(ctx, fs, args, stdout, path, nil, answer)
}

// fetchViewQuery is fetchView with a query built from the verb's own flags
// once they are parsed; query may be nil.
func fetchViewQuery(ctx context.Context, fs *verbFlags, args []string, stdout io.Writer, path string, query func() url.Values, answer any) (printed bool, err error) {
	cf := addClientFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return false, err
	}
	c, err := cf.client()
	if err != nil {
		return false, err
	}
	defer c.Close()
	var q url.Values
	if query != nil {
		q = query()
	}
	data, err := c.get(ctx, path, q, answer)
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
