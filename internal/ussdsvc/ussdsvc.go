// Package ussdsvc runs USSD on the modems: sessions a client opens through
// the API (start, reply, end, and the reaper that closes abandoned ones),
// each SIM's balance checked on a staggered schedule or on demand, and the
// USSD dialect of each modem model, learned from the replies it gets.
package ussdsvc

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/operators"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Modems are the modems' owners: every exchange runs on the owner of its
// modem, and what is known of a modem is read from the owner's snapshot.
type Modems interface {
	// Do runs fn on the owner of modem id between its other work; no SMS
	// goes out through that modem meanwhile. Its error wraps ErrNoModem
	// or ErrModemNotReady when the modem cannot take the work.
	Do(ctx context.Context, id string, fn func(ctx context.Context, m *gsm.Modem) error) error
	Snapshot(id string) (api.Modem, bool)
	Snapshots() []api.Modem
}

// Lanes are the send lanes: a modem in an API session sends nothing.
type Lanes interface {
	// HoldForSession pauses the modem's lane for the session, and each
	// lane the modem opens again while the session lasts (it rebooted,
	// its port came back), until ReleaseSession; other reasons for a
	// pause stay.
	HoldForSession(modemID, sessionID string)
	// ReleaseSession lifts the session's hold; a lane another session
	// holds stays paused. Releasing twice is harmless.
	ReleaseSession(sessionID string)
	// HeldSessions lists the sessions that hold a lane.
	HeldSessions() []string
}

// Sessions is the store's USSD facade (store.Store.USSD).
type Sessions interface {
	ClaimUSSD(ctx context.Context, u store.USSDSession) (store.USSDSession, error)
	GetUSSDSession(ctx context.Context, id string) (store.USSDSession, error)
	MoveUSSD(ctx context.Context, id, from, to, reason string) (store.USSDSession, error)
	LiveUSSDSessions(ctx context.Context) ([]store.USSDSession, error)
	CloseStaleUSSD(ctx context.Context, before time.Time) (int, error)
	USSDDialect(ctx context.Context, modelFirmware string) (string, error)
	SaveUSSDDialect(ctx context.Context, modelFirmware, dialect string) error
}

// Balances is the store's Balances facade (store.Store.Balances).
type Balances interface {
	RecordBalance(ctx context.Context, b store.Balance, threshold string, low bool, next time.Time) (crossed bool, err error)
	NoteBalanceFailure(ctx context.Context, iccid, reason string, next time.Time) error
	LatestBalances(ctx context.Context, iccid string) (last, lastParsed *store.Balance, err error)
	GetBalanceState(ctx context.Context, iccid string) (store.BalanceState, error)
	WatchBalance(ctx context.Context, iccid string, first time.Time) error
	ScheduleBalanceCheck(ctx context.Context, iccid string, at time.Time) error
	NextBalanceCheck(ctx context.Context, now time.Time) (at time.Time, ok bool, err error)
	BalanceChecksDue(ctx context.Context, now time.Time) ([]string, error)
}

// Inbox is the store's Inbox facade, where an operator's balance SMS lands.
type Inbox interface {
	ServiceSMSSince(ctx context.Context, iccid string, senders []string, since time.Time) (*store.InboxMessage, error)
}

// SIMs are the SIM records of the store's Devices facade.
type SIMs interface {
	GetSIM(ctx context.Context, iccid string) (store.SIM, error)
}

// Errors Modems.Do wraps when a modem cannot take the work.
var (
	ErrNoModem       = errors.New("no such modem")
	ErrModemNotReady = errors.New("modem is not ready")
)

// Deps are the parts of the service USSD runs on.
type Deps struct {
	Modems   Modems
	Lanes    Lanes
	Sessions Sessions
	Balances Balances
	Inbox    Inbox
	SIMs     SIMs
	// LogEnd wakes the wait for a balance SMS: the inbox is read again
	// each time the log grows.
	LogEnd    *store.LogEnd
	Operators *operators.Operators
}

// Options are what New needs beyond its deps.
type Options struct {
	USSD    config.USSD
	Balance config.Balance
	// Modems are the configured modem entries: one may name its
	// ussd_dialect by port.
	Modems []config.Modem
	// Operators are the configured operators: one may set its own
	// balance_interval.
	Operators []config.Operator
	// CheckBudget bounds a balance check asked through the API, so that
	// its request is answered (504) before the HTTP server's write timeout
	// drops it; config.USSDCheckBudget when zero.
	CheckBudget time.Duration
	// Registerer takes the USSD metrics.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service runs USSD sessions and balance checks. Safe for concurrent use.
type Service struct {
	sessions *sessions
	balances *balances
}

// common is what sessions and balances both run on.
type common struct {
	modems       Modems
	lanes        Lanes
	ussdStore    Sessions
	balanceStore Balances
	inbox        Inbox
	sims         SIMs
	logEnd       *store.LogEnd
	operators    *operators.Operators
	o            Options
	metrics      *metrics
	log          *slog.Logger
	now          func() time.Time
}

// sessions are the USSD exchanges and the sessions they run in: the API's
// and the balance checks'.
type sessions struct {
	*common
	claimed chan struct{} // an API session was claimed: the reaper looks
}

// balances are the balance checks, their schedule and their readings.
type balances struct {
	*common
	sessions *sessions
	wake     chan struct{} // a modem turned ready or a check was asked for
}

// New registers the USSD metrics; Run starts the reaper and the balance
// schedule.
func New(d Deps, o Options) (*Service, error) {
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	c := &common{modems: d.Modems, lanes: d.Lanes, ussdStore: d.Sessions, balanceStore: d.Balances, inbox: d.Inbox, sims: d.SIMs, logEnd: d.LogEnd,
		operators: d.Operators, o: o, metrics: m, log: o.Logger, now: o.Now}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.o.CheckBudget <= 0 {
		c.o.CheckBudget = config.USSDCheckBudget
	}
	ss := &sessions{common: c, claimed: make(chan struct{}, 1)}
	return &Service{sessions: ss, balances: &balances{common: c, sessions: ss, wake: make(chan struct{}, 1)}}, nil
}

//go:embed openapi.json
var fragment []byte

// OpenAPI is the part of the API document that describes Routes.
func OpenAPI() httpapi.Fragment {
	return httpapi.Fragment{Name: "internal/ussdsvc/openapi.json", JSON: fragment}
}

// Routes serve USSD sessions and SIM balances.
func (s *Service) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Pattern: "/v1/modems/{id}/ussd", Scope: config.ScopeUSSD, Handler: s.sessions.startUSSD},
		{Method: "POST", Pattern: "/v1/ussd/{session_id}/reply", Scope: config.ScopeUSSD, Handler: s.sessions.replyUSSD},
		{Method: "DELETE", Pattern: "/v1/ussd/{session_id}", Scope: config.ScopeUSSD, Handler: s.sessions.endUSSD},
		{Method: "GET", Pattern: "/v1/sims/{iccid}/balance", Scope: config.ScopeUSSD, Handler: s.balances.simBalance},
		{Method: "GET", Pattern: "/v1/modems/{id}/balance", Scope: config.ScopeUSSD, Handler: s.balances.modemBalance},
		{Method: "POST", Pattern: "/v1/sims/{iccid}/balance", Scope: config.ScopeUSSD, Handler: s.balances.checkSIMBalance},
		{Method: "POST", Pattern: "/v1/modems/{id}/balance", Scope: config.ScopeUSSD, Handler: s.balances.checkModemBalance},
	}
}

// Run runs the scheduled, staggered balance checks and closes abandoned
// USSD sessions until ctx ends, and returns when both loops have. Sessions
// left live by a previous run are closed first: the waits they stood for
// died with that process.
func (s *Service) Run(ctx context.Context) {
	c := s.sessions.common
	if n, err := c.ussdStore.CloseStaleUSSD(ctx, c.now()); err != nil {
		c.log.Error("close USSD sessions of the previous run", "err", err)
	} else if n > 0 {
		c.log.Warn("closed USSD sessions left open by the previous run", "count", n)
	}
	tick := ussdTick(c.o.USSD.SessionTimeout)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.sessions.reap(ctx, tick) }()
	go func() { defer wg.Done(); s.balances.schedule(ctx, tick) }()
	wg.Wait()
}

// CheckSoon makes the balance scheduler check a SIM at its next look, out
// of turn (a SIM turned suspect may simply have run out of money). It
// writes to the store: do not call it from inside a store write.
func (s *Service) CheckSoon(iccid string) { s.balances.checkSoon(iccid) }

// Wake makes the balance scheduler look now: a modem turned ready, and its
// SIM may be due, or new.
func (s *Service) Wake() { s.balances.poke() }

// ussdTick is how often sessions and the balance schedule are looked at: a
// tenth of the session cap, so a timeout is kept to within 10 %, at most
// once a second.
func ussdTick(sessionTimeout time.Duration) time.Duration {
	return min(max(sessionTimeout/10, 20*time.Millisecond), time.Second)
}
