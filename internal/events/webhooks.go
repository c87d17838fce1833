package events

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Webhook delivery: each configured endpoint has its own goroutine walking
// the event log in id order from a durable cursor. The head event is retried
// until a 2xx answer (at-least-once: receivers dedupe by X-Gsmbridge-Id) or
// until GiveUpAfter has passed since its first try, when it becomes a dead
// letter and the walk goes on. One endpoint's failures never delay another.

const (
	// webhookPage is how many events an endpoint reads from the log at once.
	webhookPage = 100
	// webhookMaxConns bounds the connections per endpoint: descriptors must
	// stay below 1024 for the serial library.
	webhookMaxConns = 2
)

// webhookTransport is shared by the endpoints; its owner closes its
// idle connections when delivery stops.
func webhookTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = webhookMaxConns
	t.MaxConnsPerHost = webhookMaxConns
	return t
}

// webhookEndpoint posts events to one configured URL.
type webhookEndpoint struct {
	cfg    config.Webhook
	types  store.EventTypes
	client *http.Client
}

func newWebhookEndpoint(cfg config.Webhook, rt http.RoundTripper) *webhookEndpoint {
	return &webhookEndpoint{
		cfg:   cfg,
		types: store.EventTypes(cfg.Events),
		client: &http.Client{
			Transport: rt,
			Timeout:   cfg.Timeout,
			// A redirect would turn the POST into a GET elsewhere: report it
			// as a failure so the operator fixes the URL.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// eventBody is the event exactly as GET /v1/events shows it.
func eventBody(ev store.Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(store.EventView(&ev)); err != nil {
		return nil, fmt.Errorf("event %d: %w", ev.ID, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Signature is hex HMAC-SHA256 over timestamp "." body.
func Signature(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// post delivers one event; nil means the endpoint answered 2xx. The error
// never names the URL, which may carry credentials.
func (ep *webhookEndpoint) post(ctx context.Context, ev store.Event, now time.Time) error {
	body, err := eventBody(ev)
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gsmbridge-webhook/1")
	req.Header.Set("X-Gsmbridge-Event", ev.Type)
	req.Header.Set("X-Gsmbridge-Id", strconv.FormatInt(ev.ID, 10))
	req.Header.Set("X-Gsmbridge-Timestamp", ts)
	req.Header.Set("X-Gsmbridge-Signature", Signature(ep.cfg.Secrets[0], ts, body))
	resp, err := ep.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			if ue.Timeout() {
				return fmt.Errorf("no answer within %s: %w", ep.cfg.Timeout, ue.Err)
			}
			return fmt.Errorf("post: %w", ue.Err)
		}
		return fmt.Errorf("post: %w", err)
	}
	// Reading a bounded amount lets the connection be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("endpoint answered HTTP %s", resp.Status)
	}
	return nil
}

// webhookBackoff is the wait after the n-th failed attempt: doubling from
// initial up to max, then jittered down by up to half so endpoints that
// failed together do not retry in lockstep.
func webhookBackoff(n int, initial, max time.Duration) time.Duration {
	d := initial
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d - rand.N(d/2+1)
}

// Run pushes the event log to every configured endpoint until ctx ends.
func (e *Events) Run(ctx context.Context) {
	if len(e.webhooks) == 0 {
		return
	}
	rt := webhookTransport()
	defer rt.CloseIdleConnections()
	var wg sync.WaitGroup
	for i, cfg := range e.webhooks {
		ep := newWebhookEndpoint(cfg, rt)
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.deliver(ctx, ep, e.log.With("webhook", i, "url", displayURL(cfg.URL)))
		}()
	}
	wg.Wait()
}

// deliver walks the log for one endpoint until ctx ends, woken by the
// store when the log grows.
func (e *Events) deliver(ctx context.Context, ep *webhookEndpoint, log *slog.Logger) {
	var c store.WebhookCursor
	for {
		var err error
		if c, err = e.deliveries.GetWebhookCursor(ctx, ep.cfg.URL); err == nil {
			break
		}
		log.Error("read webhook cursor", "err", err)
		if !sleepCtx(ctx, e.policy.RetryMax) {
			return
		}
	}
	for ctx.Err() == nil {
		upto, grew := e.eventLog.LogEnd().Changed()
		page, err := e.eventLog.Events(ctx, store.EventFilter{After: c.Cursor, Upto: upto, Types: ep.types, Limit: webhookPage})
		if err != nil {
			if ctx.Err() == nil {
				log.Error("read event log", "err", err)
				sleepCtx(ctx, e.policy.RetryInitial)
			}
			continue
		}
		for _, ev := range page {
			if c, err = e.deliverOne(ctx, ep, c, ev, log); err != nil {
				break
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				log.Error("record webhook delivery", "err", err)
				sleepCtx(ctx, e.policy.RetryInitial)
			}
			continue
		}
		if len(page) < webhookPage && upto > c.Cursor {
			// Everything up to upto was delivered or not wanted: move past
			// it so retention need not keep events this endpoint filters out.
			c = store.WebhookCursor{Endpoint: ep.cfg.URL, Cursor: upto}
			if err := e.deliveries.SaveWebhookCursor(ctx, c); err != nil && ctx.Err() == nil {
				log.Error("save webhook cursor", "err", err)
			}
			continue
		}
		if len(page) == webhookPage {
			continue
		}
		select {
		case <-ctx.Done():
		case <-grew:
		}
	}
}

// deliverOne retries one event until it is delivered or given up on, and
// returns the cursor past it. An error means ctx ended or the store failed;
// the event stays the head.
func (e *Events) deliverOne(ctx context.Context, ep *webhookEndpoint, c store.WebhookCursor, ev store.Event, log *slog.Logger) (store.WebhookCursor, error) {
	if c.HeadEvent != ev.ID {
		c = store.WebhookCursor{Endpoint: ep.cfg.URL, Cursor: c.Cursor, HeadEvent: ev.ID}
	}
	policy := e.policy
	for {
		if wait := c.NextAt.Sub(e.now()); wait > 0 && !sleepCtx(ctx, wait) {
			return c, ctx.Err()
		}
		if c.FirstTry.IsZero() {
			c.FirstTry = e.now()
		}
		err := ep.post(ctx, ev, e.now())
		if ctx.Err() != nil {
			return c, ctx.Err()
		}
		if err == nil {
			e.metrics.delivery("delivered")
		} else {
			e.metrics.delivery("failed")
		}
		if err == nil {
			next := store.WebhookCursor{Endpoint: ep.cfg.URL, Cursor: ev.ID}
			if err := e.deliveries.SaveWebhookCursor(ctx, next); err != nil {
				return c, err
			}
			return next, nil
		}
		c.Attempts++
		c.LastError = err.Error()
		if e.now().Sub(c.FirstTry) >= policy.GiveUpAfter {
			log.Warn("webhook gave up on an event; it is now a dead letter", "event", ev.ID, "type", ev.Type,
				"attempts", c.Attempts, "err", c.LastError)
			if err := e.deliveries.GiveUp(ctx, c); err != nil {
				return c, err
			}
			e.metrics.delivery("dead_letter")
			return store.WebhookCursor{Endpoint: ep.cfg.URL, Cursor: ev.ID}, nil
		}
		c.NextAt = e.now().Add(webhookBackoff(c.Attempts, policy.RetryInitial, policy.RetryMax))
		if c.Attempts == 1 || c.Attempts%10 == 0 {
			log.Warn("webhook delivery failed; retrying", "event", ev.ID, "type", ev.Type, "attempts", c.Attempts, "err", c.LastError)
		}
		if err := e.deliveries.SaveWebhookCursor(ctx, c); err != nil {
			return c, err
		}
	}
}

// sleepCtx waits for d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// displayURL drops what may carry credentials (user info, query, fragment)
// from a webhook URL shown in logs and the API.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
