// Package events serves the event log (GET /v1/events, long-polled on the
// store's LogEnd) and pushes it to the configured webhooks, each endpoint
// walking the log from a durable cursor; events it gives up on become dead
// letters an operator lists and retries.
package events

import (
	"context"
	_ "embed"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Log is the event log as this package reads it: pages for the API and the
// webhooks, and its end to wait on.
type Log interface {
	LogEnd() *store.LogEnd
	Events(ctx context.Context, f store.EventFilter) ([]store.Event, error)
	GetEvent(ctx context.Context, id int64) (store.Event, error)
	CountEvents(ctx context.Context, after int64, types store.EventTypes) (int64, error)
}

// Deliveries is where each webhook has got to in the log, and what it gave
// up on.
type Deliveries interface {
	GetWebhookCursor(ctx context.Context, endpoint string) (store.WebhookCursor, error)
	SaveWebhookCursor(ctx context.Context, c store.WebhookCursor) error
	GiveUp(ctx context.Context, c store.WebhookCursor) error
	DeadLetters(ctx context.Context, endpoint string, after int64, limit int) ([]store.DeadLetter, error)
	GetDeadLetter(ctx context.Context, id int64) (store.DeadLetter, error)
	CountDeadLetters(ctx context.Context, endpoint string) (int64, error)
	DeadLetterRetried(ctx context.Context, id int64, delivered bool, lastError string) error
}

// Options are what New needs beyond the store.
type Options struct {
	Webhooks []config.Webhook
	// Policy is the retry policy of every endpoint (webhook_defaults).
	Policy config.WebhookDefaults
	// LongPolls caps the waiting GET /v1/events with the service's other
	// long polls.
	LongPolls *httpapi.LongPolls
	// Registerer takes the delivery counter.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
}

// Events serves the log and delivers it. Safe for concurrent use.
type Events struct {
	eventLog   Log
	deliveries Deliveries
	webhooks   []config.Webhook
	policy     config.WebhookDefaults
	longPolls  *httpapi.LongPolls
	metrics    *metrics
	log        *slog.Logger
	now        func() time.Time
}

// New registers the delivery counter; Run delivers.
func New(eventLog Log, deliveries Deliveries, o Options) (*Events, error) {
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	e := &Events{eventLog: eventLog, deliveries: deliveries, webhooks: o.Webhooks, policy: o.Policy, longPolls: o.LongPolls, metrics: m, log: o.Logger, now: o.Now}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.longPolls == nil {
		e.longPolls = httpapi.NewLongPolls(1)
	}
	return e, nil
}

//go:embed openapi.json
var fragment []byte

// OpenAPI is the part of the API document that describes Routes.
func OpenAPI() httpapi.Fragment {
	return httpapi.Fragment{Name: "internal/events/openapi.json", JSON: fragment}
}
