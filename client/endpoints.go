package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
)

// Page selects part of a listing; zero values take the daemon's defaults.
type Page struct {
	State  string    // only this state (messages, confirmations)
	Since  time.Time // created at or after
	Cursor string    // the NextCursor of the previous page
	Limit  int       // 1 to 1000
}

func (p Page) query() url.Values {
	q := url.Values{}
	if p.State != "" {
		q.Set("state", p.State)
	}
	if !p.Since.IsZero() {
		q.Set("since", p.Since.UTC().Format(time.RFC3339Nano))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	return q
}

func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	_, err := c.Do(ctx, Request{Method: method, Path: path, Body: body}, out)
	return err
}

// Send queues an SMS. key, when not empty, is the Idempotency-Key: sending
// the same message with the same key again returns the first one. The
// answer of a new message holds its id, state, parts and expiry; that of a
// repeated one the whole message.
func (s Messages) Send(ctx context.Context, m api.NewMessage, key string) (api.Message, error) {
	var out api.Message
	r := Request{Method: http.MethodPost, Path: "/v1/messages", Body: m}
	if key != "" {
		r.Header = http.Header{"Idempotency-Key": {key}}
	}
	_, err := s.c.Do(ctx, r, &out)
	return out, err
}

// Get reads one outgoing message.
func (s Messages) Get(ctx context.Context, id string) (api.Message, error) {
	var out api.Message
	err := s.c.call(ctx, http.MethodGet, "/v1/messages/"+url.PathEscape(id), nil, &out)
	return out, err
}

// List lists outgoing messages, newest first.
func (s Messages) List(ctx context.Context, p Page) (api.MessageList, error) {
	var out api.MessageList
	_, err := s.c.Get(ctx, "/v1/messages", p.query(), &out)
	return out, err
}

// Cancel cancels a queued message. One that already went is a 409 *Error
// whose Body holds the message as it stands.
func (s Messages) Cancel(ctx context.Context, id string) (api.Message, error) {
	var out api.Message
	err := s.c.call(ctx, http.MethodDelete, "/v1/messages/"+url.PathEscape(id), nil, &out)
	return out, err
}

// Create asks a customer to confirm a payment. Repeating the same request
// (same id) is safe and returns the confirmation as it stands.
func (s Confirmations) Create(ctx context.Context, n api.NewConfirmation) (api.Confirmation, error) {
	var out api.Confirmation
	err := s.c.call(ctx, http.MethodPost, "/v1/confirmations", n, &out)
	return out, err
}

// Get reads a confirmation. With wait > 0 it is a long poll: the
// daemon answers as soon as the version differs from known (or at once when
// it is final), else after wait with the confirmation unchanged. known < 1
// waits for any change from now on.
func (s Confirmations) Get(ctx context.Context, id string, known int, wait time.Duration) (api.Confirmation, error) {
	q := url.Values{}
	if wait > 0 {
		q.Set("wait", wait.String())
		if known > 0 {
			q.Set("version", strconv.Itoa(known))
		}
	}
	var out api.Confirmation
	_, err := s.c.Do(ctx, Request{Method: http.MethodGet, Path: "/v1/confirmations/" + url.PathEscape(id), Query: q, Wait: wait}, &out)
	return out, err
}

// longPoll is how long each poll of Await asks the daemon to
// hold; the daemon caps it at what its write timeout allows.
const longPoll = 20 * time.Second

// Await long-polls conf until it is final (confirmed,
// cancelled, expired or failed) or ctx ends, and returns it as it last
// stood. conf is the confirmation as the caller last saw it.
func (s Confirmations) Await(ctx context.Context, conf api.Confirmation) (api.Confirmation, error) {
	for !conf.State.Final() {
		next, err := s.Get(ctx, conf.ID, conf.Version, longPoll)
		if err != nil {
			return conf, err
		}
		conf = next
	}
	return conf, nil
}

// Cancel cancels a pending confirmation. A decided one is a 409
// *Error whose Body holds the confirmation as it stands.
func (s Confirmations) Cancel(ctx context.Context, id string) (api.Confirmation, error) {
	var out api.Confirmation
	err := s.c.call(ctx, http.MethodDelete, "/v1/confirmations/"+url.PathEscape(id), nil, &out)
	return out, err
}

// List lists confirmations, newest first.
func (s Confirmations) List(ctx context.Context, p Page) (api.ConfirmationList, error) {
	var out api.ConfirmationList
	_, err := s.c.Get(ctx, "/v1/confirmations", p.query(), &out)
	return out, err
}

// Quote says what a payment through an operator costs and which limits it
// would break.
func (s Confirmations) Quote(ctx context.Context, q api.QuoteRequest) (api.Quote, error) {
	var out api.Quote
	err := s.c.call(ctx, http.MethodPost, "/v1/quote", q, &out)
	return out, err
}

// List lists received SMS, newest first.
func (s Inbox) List(ctx context.Context, p Page) (api.InboxList, error) {
	var out api.InboxList
	_, err := s.c.Get(ctx, "/v1/inbox", p.query(), &out)
	return out, err
}

// Get reads one received SMS.
func (s Inbox) Get(ctx context.Context, id int64) (api.InboxMessage, error) {
	var out api.InboxMessage
	err := s.c.call(ctx, http.MethodGet, "/v1/inbox/"+strconv.FormatInt(id, 10), nil, &out)
	return out, err
}

// EventQuery selects events of the log.
type EventQuery struct {
	After int64         // events after this id: the NextAfter of the previous page
	Types []string      // "message.*", "sms.received"; none means all
	Limit int           // 1 to 1000
	Wait  time.Duration // long poll: hold the answer until an event comes
}

// List reads the event log in order.
func (s Events) List(ctx context.Context, e EventQuery) (api.EventPage, error) {
	q := url.Values{}
	if e.After > 0 {
		q.Set("after", strconv.FormatInt(e.After, 10))
	}
	for _, t := range e.Types {
		q.Add("type", t)
	}
	if e.Limit > 0 {
		q.Set("limit", strconv.Itoa(e.Limit))
	}
	if e.Wait > 0 {
		q.Set("wait", e.Wait.String())
	}
	var out api.EventPage
	_, err := s.c.Do(ctx, Request{Method: http.MethodGet, Path: "/v1/events", Query: q, Wait: e.Wait}, &out)
	return out, err
}

// List lists the modems with their state.
func (s Modems) List(ctx context.Context) ([]api.Modem, error) {
	var out api.ModemList
	_, err := s.c.Get(ctx, "/v1/modems", nil, &out)
	return out.Modems, err
}

// ListFleet lists the modems of every host of the daemon's fleet, each
// with its host (GET /v1/modems?fleet=true). A daemon without a fleet
// answers a 404 *Error with Code "not_in_fleet".
func (s Modems) ListFleet(ctx context.Context) ([]api.Modem, error) {
	var out api.ModemList
	_, err := s.c.Get(ctx, "/v1/modems", fleetQuery(), &out)
	return out.Modems, err
}

func fleetQuery() url.Values { return url.Values{"fleet": {"true"}} }

// Get reads one modem by id.
func (s Modems) Get(ctx context.Context, id string) (api.Modem, error) {
	var out api.Modem
	err := s.c.call(ctx, http.MethodGet, "/v1/modems/"+url.PathEscape(id), nil, &out)
	return out, err
}

// List lists the SIMs the daemon has seen.
func (s SIMs) List(ctx context.Context) ([]api.SIM, error) {
	var out api.SIMList
	_, err := s.c.Get(ctx, "/v1/sims", nil, &out)
	return out.SIMs, err
}

// ListFleet lists the SIMs every host of the daemon's fleet has seen, each
// with its host (GET /v1/sims?fleet=true).
func (s SIMs) ListFleet(ctx context.Context) ([]api.SIM, error) {
	var out api.SIMList
	_, err := s.c.Get(ctx, "/v1/sims", fleetQuery(), &out)
	return out.SIMs, err
}

// List lists the hosts of the daemon's fleet, alive or holding unfinished
// work. A daemon without a fleet answers a 404 *Error with Code
// "not_in_fleet".
func (s Hosts) List(ctx context.Context) ([]api.Host, error) {
	var out api.HostList
	_, err := s.c.Get(ctx, "/v1/hosts", nil, &out)
	return out.Hosts, err
}

// Release hands a dead host's taken work back to the fleet and returns the
// ids handed back; a host that may still send is a 409 *Error (host_alive).
func (s Hosts) Release(ctx context.Context, host string) ([]string, error) {
	var out struct {
		Released []string `json:"released"`
	}
	err := s.c.call(ctx, http.MethodPost, "/v1/hosts/"+url.PathEscape(host)+"/release", struct{}{}, &out)
	return out.Released, err
}

// Resume puts a suspect SIM back to work.
func (s SIMs) Resume(ctx context.Context, iccid string) (api.SIM, error) {
	var out api.SIM
	err := s.c.call(ctx, http.MethodPost, "/v1/sims/"+url.PathEscape(iccid)+"/resume", nil, &out)
	return out, err
}

// Start sends a USSD code through a modem. An answer with Open set waits for
// Reply or EndUSSD.
func (s USSD) Start(ctx context.Context, modem, code string) (api.USSDAnswer, error) {
	var out api.USSDAnswer
	err := s.c.call(ctx, http.MethodPost, "/v1/modems/"+url.PathEscape(modem)+"/ussd", api.USSDRequest{Code: code}, &out)
	return out, err
}

// Reply answers an open USSD session's menu.
func (s USSD) Reply(ctx context.Context, session, text string) (api.USSDAnswer, error) {
	var out api.USSDAnswer
	err := s.c.call(ctx, http.MethodPost, "/v1/ussd/"+url.PathEscape(session)+"/reply", api.USSDReply{Text: text}, &out)
	return out, err
}

// End ends a USSD session.
func (s USSD) End(ctx context.Context, session string) (api.USSDSession, error) {
	var out api.USSDSession
	err := s.c.call(ctx, http.MethodDelete, "/v1/ussd/"+url.PathEscape(session), nil, &out)
	return out, err
}

// Balance reads a SIM's balance as last stored; refresh asks the network
// now (a POST, which the ussd scope allows). The daemon answers a check
// within api.BalanceCheckWithin (504 balance_check_timeout when it gives
// it up), which the call waits on top of the client's timeout.
func (s SIMs) Balance(ctx context.Context, iccid string, refresh bool) (api.BalanceView, error) {
	return s.c.balance(ctx, "/v1/sims/"+url.PathEscape(iccid)+"/balance", refresh)
}

// Balance reads the balance of the SIM in a modem; refresh as for SIMs.
func (s Modems) Balance(ctx context.Context, modem string, refresh bool) (api.BalanceView, error) {
	return s.c.balance(ctx, "/v1/modems/"+url.PathEscape(modem)+"/balance", refresh)
}

func (c *Client) balance(ctx context.Context, path string, refresh bool) (api.BalanceView, error) {
	r := Request{Method: http.MethodGet, Path: path}
	if refresh {
		// A check waits for the operator's network, longer than a read.
		r.Method, r.Body, r.Wait = http.MethodPost, api.BalanceCheck{}, api.BalanceCheckWithin
	}
	var out api.BalanceView
	_, err := c.Do(ctx, r, &out)
	return out, err
}

// Webhooks lists the configured webhook endpoints and how far each got.
func (s Events) Webhooks(ctx context.Context) ([]api.Webhook, error) {
	var out api.WebhookList
	_, err := s.c.Get(ctx, "/v1/webhooks", nil, &out)
	return out.Webhooks, err
}

// DeadLetters lists events webhook endpoints did not take in time.
func (s Events) DeadLetters(ctx context.Context) ([]api.DeadLetter, error) {
	var out api.DeadLetterList
	_, err := s.c.Get(ctx, "/v1/webhooks/dead-letters", nil, &out)
	return out.DeadLetters, err
}

// RetryDeadLetter delivers a dead letter once more, now.
func (s Events) RetryDeadLetter(ctx context.Context, id int64) (api.Retried, error) {
	var out api.Retried
	err := s.c.call(ctx, http.MethodPost, "/v1/webhooks/dead-letters/"+strconv.FormatInt(id, 10)+"/retry", nil, &out)
	return out, err
}

// Storage says what the database takes on disk.
func (s Ops) Storage(ctx context.Context) (api.Storage, error) {
	var out api.Storage
	_, err := s.c.Get(ctx, "/v1/storage", nil, &out)
	return out, err
}

// Readiness is /readyz. A daemon that is not ready answers 503 with its
// checks: they come back with the *Error.
func (s Ops) Readiness(ctx context.Context) (api.Readiness, error) {
	var out api.Readiness
	_, err := s.c.Get(ctx, "/readyz", nil, &out)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusServiceUnavailable {
		_ = json.Unmarshal(e.Body, &out)
	}
	return out, err
}

// Backup streams a consistent copy of the database (SQLite) into w. The
// timeout bounds the wait for the answer to start, not the transfer: a
// large database takes as long as it takes.
func (s Ops) Backup(ctx context.Context, w io.Writer) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	headerDeadline := time.AfterFunc(s.c.timeout, cancel)
	resp, err := s.c.send(ctx, Request{Method: http.MethodPost, Path: "/v1/backup"})
	stopped := headerDeadline.Stop()
	if err != nil {
		if !stopped {
			return 0, fmt.Errorf("no answer from %s within %s: %w", s.c.base, s.c.timeout, context.DeadlineExceeded)
		}
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
		return 0, s.c.answerError(resp, data)
	}
	n, err := io.Copy(w, resp.Body)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("the daemon announced %d bytes but sent %d", resp.ContentLength, n)
	}
	if err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}
