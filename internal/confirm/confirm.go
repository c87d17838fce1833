// Package confirm asks customers to confirm payments by SMS: it serves
// /v1/confirmations (long polls included) and POST /v1/quote, queues each
// confirmation's SMS, ends confirmations at their deadline, wakes the
// scheduler when a decision frees a customer's SIM, and answers the
// scheduler's question whether a SIM may send a confirmation's SMS now.
package confirm

import (
	"context"
	_ "embed"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// Store is what confirm needs of the store's confirmations facade
// (store.Confirmations): the confirmations and the customer's payment usage.
type Store interface {
	CreateConfirmation(ctx context.Context, n store.NewConfirmation) (c *store.Confirmation, m *store.Message, existed bool, err error)
	GetConfirmation(ctx context.Context, id string) (*store.Confirmation, error)
	ListConfirmations(ctx context.Context, f store.ConfirmationFilter) (list []*store.Confirmation, next string, err error)
	CancelConfirmation(ctx context.Context, id string, notice *store.CancelNotice) (c *store.Confirmation, unsent *store.Message, noticeMsg *store.Message, err error)
	ExpireConfirmation(ctx context.Context, id string) (*store.Confirmation, error)
	FailConfirmation(ctx context.Context, id, reason string) (*store.Confirmation, error)
	ConfirmationsChangedSince(ctx context.Context, after int64) (store.ConfirmationChanges, error)
	ConfirmationsDue(ctx context.Context, by time.Time) ([]*store.Confirmation, error)
	NextConfirmationDue(ctx context.Context) (at time.Time, ok bool, err error)
	PendingOnSIM(ctx context.Context, phone, iccid, except string) (bool, error)
	PaymentUsage(ctx context.Context, phone string, dayStart, monthStart time.Time) (payment.Usage, error)
}

// EventLog is the store's log, which announces every change of a
// confirmation: its end wakes long polls and Run, its events carry the
// decisions Run observes.
type EventLog interface {
	LogEnd() *store.LogEnd
	Events(ctx context.Context, f store.EventFilter) ([]store.Event, error)
}

// Queue is the scheduler as confirm uses it: it takes a confirmation's SMS
// (and a cancel notice), drops one cancelled before it was sent, looks at
// its queue again when a decision frees a SIM, and says what holds the SMS
// of a queued confirmation.
type Queue interface {
	Enqueue(m *store.Message)
	Remove(id string) bool
	Poke()
	Holds(ids ...string) map[string]api.Hold
}

// ModemView shows the modems as they stand and has their owners sweep a
// SIM's storage: the deadline rule expires a confirmation only once its
// SIM's modem has been ready through the grace and a sweep that began past
// it read the SIM (a modem may lose the announcement of a reply).
type ModemView interface {
	Modems() []api.Modem
	// SweptSince reports whether a sweep of SIM iccid's storage that
	// began at or after t completed.
	SweptSince(iccid string, t time.Time) bool
	// Sweep asks the owner of SIM iccid for such a sweep and returns at
	// once; the service calls Wake when a sweep completes.
	Sweep(iccid string, t time.Time)
}

// Operators are the operator profiles (configured ones merged over the
// built-in ones): a quote's commission and limits, and the limits enforced
// on a new confirmation.
type Operators interface {
	ByPLMN(plmn string) (ussd.Profile, bool)
	All() []ussd.Profile
}

// Options are what New needs beyond its collaborators.
type Options struct {
	Config config.Confirmations
	// MaxTTL bounds a confirmation's ttl (send.max_ttl); NoticeTTL is the
	// ttl of a cancel notice's SMS (send.default_ttl).
	MaxTTL, NoticeTTL time.Duration
	Operators         Operators
	// LongPolls caps the waiting GETs with the service's other long polls.
	LongPolls *httpapi.LongPolls
	// Registerer takes the reply-latency histogram.
	Registerer prometheus.Registerer
	// Fleet, when joined, takes new confirmations and answers reads of
	// those other hosts hold; nil for a host that works alone.
	Fleet  Fleet
	Logger *slog.Logger
	Now    func() time.Time
}

// Confirmations is the payment confirmation feature. Safe for concurrent use.
type Confirmations struct {
	store     Store
	eventLog  EventLog
	queue     Queue
	modems    ModemView
	operators Operators
	cfg       config.Confirmations
	maxTTL    time.Duration
	noticeTTL time.Duration
	longPolls *httpapi.LongPolls
	fleet     Fleet
	metrics   *metrics
	log       *slog.Logger
	now       func() time.Time
	// wake holds one token when a modem swept its storage: a due
	// confirmation may have waited for that sweep.
	wake chan struct{}
}

// New registers the feature's metrics; Run keeps its timers.
func New(st Store, log EventLog, q Queue, modems ModemView, o Options) (*Confirmations, error) {
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	c := &Confirmations{store: st, eventLog: log, queue: q, modems: modems, operators: o.Operators, cfg: o.Config,
		maxTTL: o.MaxTTL, noticeTTL: o.NoticeTTL, longPolls: o.LongPolls, fleet: o.Fleet, metrics: m, log: o.Logger, now: o.Now,
		wake: make(chan struct{}, 1)}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.longPolls == nil {
		c.longPolls = httpapi.NewLongPolls(1)
	}
	return c, nil
}

//go:embed openapi.json
var fragment []byte

// OpenAPI is the part of the API document that describes Routes.
func OpenAPI() httpapi.Fragment {
	return httpapi.Fragment{Name: "internal/confirm/openapi.json", JSON: fragment}
}

// Routes serve /v1/confirmations and /v1/quote.
func (s *Confirmations) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Pattern: "/v1/confirmations", Scope: config.ScopeConfirm, Handler: s.Post},
		{Method: "GET", Pattern: "/v1/confirmations", Scope: config.ScopeRead, Handler: s.list},
		{Method: "GET", Pattern: "/v1/confirmations/{id}", Scope: config.ScopeRead, Handler: s.Get},
		{Method: "DELETE", Pattern: "/v1/confirmations/{id}", Scope: config.ScopeConfirm, Handler: s.Delete},
		{Method: "POST", Pattern: "/v1/quote", Scope: config.ScopeConfirm, Handler: s.quote},
	}
}
