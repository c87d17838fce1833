package sending

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Messages is what sending needs of the store's messages facade
// (store.Messages): accepting, reading and cancelling messages, and
// recording each part's outcome.
type Messages interface {
	Accept(ctx context.Context, n store.NewMessage) (m *store.Message, existed bool, err error)
	GetMessage(ctx context.Context, id string) (*store.Message, error)
	ListMessages(ctx context.Context, f store.MessageFilter) (list []*store.Message, next string, err error)
	Cancel(ctx context.Context, id string) (*store.Message, error)
	Expire(ctx context.Context, id string) (*store.Message, error)
	BeginPartAfter(ctx context.Context, sent *store.SentPart, id string, seq int, iccid, modemID string) (*store.Message, error)
	PartSent(ctx context.Context, id string, seq, mr int, at time.Time) (*store.Message, error)
	PartSentAlong(p store.SentPart)
	PartNotSent(ctx context.Context, id string, seq int, cause store.ErrorInfo, retryAt time.Time) (*store.Message, error)
	PartUnknown(ctx context.Context, id string, seq int, cause store.ErrorInfo, atLeastOnce bool) (*store.Message, error)
	RecoverInFlight(ctx context.Context, atLeastOnce bool) (int, error)
	Queue(ctx context.Context, each func(*store.Message)) error
}

// SIMs is what sending needs of the store's devices facade
// (store.Devices): the SIMs, their recent sends and their failure streaks.
type SIMs interface {
	SIMs(ctx context.Context) ([]store.SIM, error)
	SentSince(ctx context.Context, iccid string, t time.Time) ([]time.Time, error)
	SendOutcome(ctx context.Context, iccid, recipient string, failed bool, threshold int) (sim store.SIM, becameSuspect bool, err error)
	ResumeSIM(ctx context.Context, iccid, reason string) (store.SIM, error)
}

// Modems are the modem owners as sending meets them: a pinned modem must
// exist, and a resumed SIM's modems show it active again.
type Modems interface {
	Has(id string) bool
	Modems() []api.Modem
	SetSIMState(modemID, state string)
}

// Limits gives a SIM's send limits (operator profile, then the SIM's own).
type Limits interface {
	SendLimits(iccid, imsi string) api.SendLimits
}

// Fleet is the fleet as the send path meets it (docs/fleet-plan.md); the
// service hands it over once the host joined one.
type Fleet interface {
	// Submit makes an accepted message durable in the fleet and answers
	// the request itself.
	Submit(w http.ResponseWriter, r *http.Request, n store.NewMessage)
	// ClaimSending moves the fleet's claim on a message to sending before
	// its first part goes out, and says whether it may; when not, wait
	// says it stays queued here.
	ClaimSending(ctx context.Context, id string) (send, wait bool)
	// Answer answers a read of a message this host does not hold; false
	// when the fleet knows no such message either.
	Answer(w http.ResponseWriter, r *http.Request, id string) bool
	// Cancel answers a DELETE of a message this host does not hold;
	// false when the fleet knows no such message, or this host took it
	// to cancel it here.
	Cancel(w http.ResponseWriter, r *http.Request, id string) bool
	// MayEnd says whether this host's queued copy of a message may end
	// here (expire); false when the copy was another host's by now and
	// has been dropped unsent.
	MayEnd(ctx context.Context, id string) bool
	// ServedBy names the other live hosts that serve a pin (a modem they
	// run, a SIM of the operator): a pin this host does not serve is
	// accepted here when one does, and goes there; an error answers the
	// request (the fleet cannot tell now).
	ServedBy(ctx context.Context, p Pin) ([]string, error)
}

// Pin is what a message is pinned to: a modem, or an operator's SIMs.
type Pin struct{ Modem, Operator string }

// Options are what New needs beyond its collaborators.
type Options struct {
	Config config.Send
	Limits Limits
	// Later keeps a part's outcome the store refused (it is failing) and
	// writes it once the store takes writes again: it records what a
	// modem already did, so it is never dropped.
	Later func(what string, write func(context.Context) error)
	// Suspect hears of a SIM that turned suspect (a SIM out of money
	// fails every send too: its balance is worth a look).
	Suspect func(iccid string)
	// Registerer takes the send-latency histogram.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
}

// Sending is the send side: /v1/messages and /v1/sims, and the Work that
// modem owners take from the scheduler. Safe for concurrent use.
type Sending struct {
	messages Messages
	sims     SIMs
	modems   Modems
	sched    *Scheduler
	limits   Limits
	fleet    Fleet // nil: this host works alone
	cfg      config.Send
	later    func(what string, write func(context.Context) error)
	suspect  func(iccid string)
	metrics  *metrics
	log      *slog.Logger
	now      func() time.Time
}

// New serves the scheduler's queue; the caller runs the scheduler.
func New(messages Messages, sims SIMs, modems Modems, sched *Scheduler, o Options) (*Sending, error) {
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Sending{messages: messages, sims: sims, modems: modems, sched: sched, limits: o.Limits, cfg: o.Config,
		later: o.Later, suspect: o.Suspect, metrics: m, log: o.Logger, now: o.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.later == nil {
		s.later = func(what string, _ func(context.Context) error) {
			s.log.Error("a send outcome the store refused is lost", "write", what)
		}
	}
	if s.suspect == nil {
		s.suspect = func(string) {}
	}
	return s, nil
}

// JoinFleet routes new messages through the fleet and checks its claim
// before each message's first part. Call it before serving requests or
// opening lanes.
func (s *Sending) JoinFleet(f Fleet) { s.fleet = f }

// Expire ends a queued message whose time ran out, as the scheduler and
// the send path find it. In a fleet the copy may be another host's by now
// (released while this host was paused or cut off, and sent there): it is
// dropped unsent then, not reported expired beside the other host's
// report.
func (s *Sending) Expire(ctx context.Context, id string) {
	if s.fleet != nil && !s.fleet.MayEnd(ctx, id) {
		return
	}
	if _, err := s.messages.Expire(ctx, id); err != nil && !errors.Is(err, store.ErrConflict) {
		s.log.Error("expire message", "message", id, "err", err)
	}
}

// Recover makes messages caught mid-send by the last stop unknown (or
// queued again, with send.at_least_once) and queues what the store holds
// queued.
func (s *Sending) Recover(ctx context.Context) error {
	unknown, err := s.messages.RecoverInFlight(ctx, s.cfg.AtLeastOnce)
	if err != nil {
		return fmt.Errorf("recover in-flight sends: %w", err)
	}
	if unknown > 0 {
		s.log.Warn("messages caught mid-send by the last stop are now unknown", "count", unknown)
	}
	return s.messages.Queue(ctx, s.sched.Enqueue)
}

//go:embed openapi.json
var fragment []byte

// OpenAPI is the part of the API document that describes Routes.
func OpenAPI() httpapi.Fragment {
	return httpapi.Fragment{Name: "internal/sending/openapi.json", JSON: fragment}
}

// Routes serve /v1/messages and /v1/sims.
func (s *Sending) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Pattern: "/v1/messages", Scope: config.ScopeSend, Handler: s.post},
		{Method: "GET", Pattern: "/v1/messages", Scope: config.ScopeRead, Handler: s.list},
		{Method: "GET", Pattern: "/v1/messages/{id}", Scope: config.ScopeRead, Handler: s.Get},
		{Method: "DELETE", Pattern: "/v1/messages/{id}", Scope: config.ScopeSend, Handler: s.Delete},
		{Method: "GET", Pattern: "/v1/sims", Scope: config.ScopeRead, Handler: s.listSIMs},
		{Method: "POST", Pattern: "/v1/sims/{iccid}/resume", Scope: config.ScopeAdmin, Handler: s.resumeSIM},
	}
}
