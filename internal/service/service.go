// Package service runs gsmbridge's service: it opens the store and composes
// the features (the modem owners, sending, receiving, USSD, confirmations,
// events, retention, health, the fleet) behind one HTTP API.
package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/hw"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/confirm"
	"github.com/gsmbridge/gsmbridge/internal/events"
	"github.com/gsmbridge/gsmbridge/internal/fleet"
	"github.com/gsmbridge/gsmbridge/internal/health"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/modem"
	"github.com/gsmbridge/gsmbridge/internal/operators"
	"github.com/gsmbridge/gsmbridge/internal/receiving"
	"github.com/gsmbridge/gsmbridge/internal/retention"
	"github.com/gsmbridge/gsmbridge/internal/sending"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/internal/ussdsvc"
)

// Options are what the daemon needs beyond its configuration.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Wrap, when set, wraps the daemon's routes, inside the browser guards
	// (serve --modemsim adds the simulated phones' endpoints this way).
	Wrap func(http.Handler) http.Handler
	// Observe, when set, wraps the whole handler, guards included, to see
	// every answer the daemon gives (tests check each against the API
	// document).
	Observe func(http.Handler) http.Handler
	// open replaces hw.Open in tests.
	open func(path string, cfg hw.PortConfig) (io.ReadWriteCloser, error)
	// atTimeout shortens AT command deadlines in tests, reopenMin and
	// reopenMax the waits between tries on a failing modem, budgetWindow
	// the minute of health.commands_per_minute, balanceCheckBudget the
	// time a balance check asked through the API may take.
	atTimeout, reopenMin, reopenMax, budgetWindow, balanceCheckBudget time.Duration
}

// Daemon is one running gsmbridge service.
type Service struct {
	cfg       *config.Config
	log       *slog.Logger
	now       func() time.Time
	store     *store.Store
	sched     *sending.Scheduler
	sending   *sending.Sending
	modems    *modem.Pool
	receiving *receiving.Receiving
	operators *operators.Operators
	retention *retention.Retention
	events    *events.Events
	confirm   *confirm.Confirmations
	health    *health.Health
	ussd      *ussdsvc.Service
	status    *health.Status
	api       *httpapi.API
	observe   func(http.Handler) http.Handler
	metrics   *metrics
	registry  *health.Metrics
	tls       *httpapi.TLSFiles // nil: plain HTTP
	fleet     *fleet.Node       // nil: this host works alone

	longPolls  *httpapi.LongPolls
	storeWatch *health.StoreWatch // keeps send bookkeeping the store refused
}

// New opens the store and prepares the owners; Run starts them.
func New(cfg *config.Config, opts Options) (*Service, error) {
	d := &Service{cfg: cfg, log: opts.Logger, now: opts.Now, observe: opts.Observe}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if cfg.TLS.Enabled() {
		f, err := httpapi.LoadTLS(cfg.TLS)
		if err != nil {
			return nil, err
		}
		d.tls = f
	}
	frags, err := openAPIFragmentList()
	if err != nil {
		return nil, err
	}
	d.registry = health.NewMetrics()
	d.metrics = newMetrics(d.registry.Registry())
	d.longPolls = httpapi.NewLongPolls(cfg.LimitsHTTP.MaxLongPolls)
	if d.operators, err = operators.New(cfg.Operators, cfg.SIMs); err != nil {
		return nil, err
	}
	st, err := store.Open(cfg.DataDir, store.Options{Now: d.now})
	if err != nil {
		return nil, err
	}
	d.store = st
	d.storeWatch = health.NewStoreWatch(st, health.StoreWatchOptions{Logger: d.log, Now: d.now})
	d.retention = retention.New(st.Upkeep, retention.Options{Config: cfg.Retention, Webhooks: logReaders(cfg), Logger: d.log, Now: d.now})
	d.receiving = receiving.New(st.Inbox, st.Devices, receiving.Options{Config: cfg.Receive, Logger: d.log, Now: d.now, Registerer: d.metrics.reg})
	if d.events, err = events.New(st.Events, st.Deliveries, events.Options{Webhooks: cfg.Webhooks, Policy: cfg.WebhookDefaults, LongPolls: d.longPolls,
		Registerer: d.metrics.reg, Logger: d.log, Now: d.now}); err != nil {
		st.Close()
		return nil, err
	}
	d.health = health.New(st, st.Devices, d, health.Options{StorageWarnPercent: cfg.Receive.StorageWarnPercent, Fleet: fleetMember(d)})
	d.sched = sending.NewScheduler(d.now, func(m *store.Message, iccid string) bool { return d.confirm.Eligible(m, iccid) }, func(id string) {
		d.sending.Expire(context.Background(), id)
	})
	if d.ussd, err = ussdsvc.New(ussdsvc.Deps{Modems: ussdModems{d}, Lanes: d.sched, Sessions: st.USSD, Balances: st.Balances, Inbox: st.Inbox, SIMs: st.Devices,
		LogEnd: st.LogEnd(), Operators: d.operators},
		ussdsvc.Options{USSD: cfg.USSD, Balance: cfg.Balance, Modems: cfg.Modems, Operators: cfg.Operators, CheckBudget: opts.balanceCheckBudget, Registerer: d.metrics.reg, Logger: d.log, Now: d.now}); err != nil {
		st.Close()
		return nil, err
	}
	if d.confirm, err = confirm.New(st.Confirmations, st.Events, d.sched, confirmModems{d}, confirm.Options{Config: cfg.Confirmations, MaxTTL: cfg.Send.MaxTTL, NoticeTTL: cfg.Send.DefaultTTL,
		Operators: d.operators, LongPolls: d.longPolls, Registerer: d.metrics.reg, Fleet: fleetConfirm{d}, Logger: d.log, Now: d.now}); err != nil {
		st.Close()
		return nil, err
	}
	if d.sending, err = sending.New(st.Messages, st.Devices, sendModems{d}, d.sched, sending.Options{Config: cfg.Send, Limits: d.operators,
		Later: d.storeWatch.Later, Suspect: d.ussd.CheckSoon, Registerer: d.metrics.reg, Logger: d.log, Now: d.now}); err != nil {
		st.Close()
		return nil, err
	}
	if d.modems, err = modem.New(d.sending.Work(), inbound{d.receiving}, st.Devices, d.operators, d.sched, modem.Options{Modems: cfg.Modems,
		Health: cfg.Health, Receive: cfg.Receive, Logger: d.log, Now: d.now, Open: opts.open, ATTimeout: opts.atTimeout,
		ReopenMin: opts.reopenMin, ReopenMax: opts.reopenMax, BudgetWindow: opts.budgetWindow,
		Registerer: d.metrics.reg, Ready: func() { d.ussd.Wake() }, Swept: func() { d.confirm.Wake() }}); err != nil {
		st.Close()
		return nil, err
	}
	d.registry.Registry().MustRegister(newSnapshotCollector(d))
	d.status = health.NewStatus(statusStore{st}, health.StatusOptions{Modems: d, Queue: d.sched, Operators: d.operators, Auth: &cfg.Auth, Now: d.now, Fleet: fleetStatusView(d)})
	d.api, err = httpapi.New(d.allRoutes(), frags, httpapi.Options{Auth: &cfg.Auth, AllowedHosts: cfg.HTTP.AllowedHosts,
		AllowedOrigins: cfg.HTTP.AllowedOrigins, MaxBodyBytes: cfg.LimitsHTTP.MaxBodyBytes, Logger: d.log, Wrap: opts.Wrap})
	if err != nil {
		st.Close()
		return nil, err
	}
	return d, nil
}

// Run serves on ln until ctx ends, then stops taking work, lets commands in
// flight finish and closes the store.
func (d *Service) Run(ctx context.Context, ln net.Listener) error {
	defer d.store.Close()
	if err := d.sending.Recover(ctx); err != nil {
		return err
	}
	var err error
	if d.fleet, err = d.joinFleet(ctx); err != nil {
		return err
	}
	if d.fleet != nil {
		d.sending.JoinFleet(fleetSending{d})
	}

	limited := httpapi.NewLimitListener(ln, d.cfg.LimitsHTTP.MaxConnections)
	srv := httpapi.NewServer(d.Handler(), limited)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); d.sched.Run(workCtx) }()
	for _, task := range []func(context.Context){d.events.Run, d.retention.Run, d.confirm.Run, d.ussd.Run, d.receiving.Run, d.watchdog().Run, d.storeWatch.Run, d.modems.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); task(workCtx) }()
	}
	if d.fleet != nil {
		wg.Add(2)
		go func() { defer wg.Done(); d.fleet.Run(workCtx) }()
		go func() { defer wg.Done(); d.runFleetFinisher(workCtx) }()
	}
	serveErr := make(chan error, 1)
	go func() {
		if d.tls != nil {
			srv.TLSConfig = d.tls.Config()
			serveErr <- srv.ServeTLS(limited, "", "")
			return
		}
		serveErr <- srv.Serve(limited)
	}()
	health.NotifyReady(d.log, d.cfg.Listen)

	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	health.NotifyStopping(d.log)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(shutdownCtx)
	stopWork()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// watchdog pets systemd's watchdog while the scheduler, the store's writer
// and the HTTP server answer.
func (d *Service) watchdog() health.Watchdog {
	return health.Watchdog{Scheduler: d.sched, Store: d.store, Listen: d.cfg.Listen, TLS: d.tls != nil, Logger: d.log}
}

// Modems returns every modem's snapshot.
func (d *Service) Modems() []ModemStatus { return d.modems.Modems() }

// sendModems are the owners as sending meets them: sending is built
// before the pool, which takes its Work.
type sendModems struct{ d *Service }

func (m sendModems) Has(id string) bool           { return m.d.modems.Has(id) }
func (m sendModems) Modems() []ModemStatus        { return m.d.modems.Modems() }
func (m sendModems) SetSIMState(id, state string) { m.d.modems.SetSIMState(id, state) }

// confirmModems are the owners as the deadline rule of confirmations meets
// them: confirmations are built before the pool, which wakes them.
type confirmModems struct{ d *Service }

func (m confirmModems) Modems() []ModemStatus { return m.d.modems.Modems() }
func (m confirmModems) SweptSince(iccid string, t time.Time) bool {
	return m.d.modems.SweptSince(iccid, t)
}
func (m confirmModems) Sweep(iccid string, t time.Time) { m.d.modems.Sweep(iccid, t) }

// statusStore is the store as the status page reads it: balances, SIMs,
// sent counts, recent messages and pending confirmations come from their
// facades.
type statusStore struct{ *store.Store }

func (s statusStore) PendingConfirmations(ctx context.Context) (int, error) {
	return s.Store.Confirmations.PendingConfirmations(ctx)
}

func (s statusStore) BalanceSummaries(ctx context.Context) (map[string]store.BalanceSummary, error) {
	return s.Store.Balances.BalanceSummaries(ctx)
}

func (s statusStore) RecentMessages(ctx context.Context, n int) ([]*store.Message, error) {
	return s.Store.Messages.RecentMessages(ctx, n)
}

func (s statusStore) SIMs(ctx context.Context) ([]store.SIM, error) { return s.Store.Devices.SIMs(ctx) }

func (s statusStore) SentPerSIM(ctx context.Context, since time.Time) (map[string]int, error) {
	return s.Store.Devices.SentPerSIM(ctx, since)
}

// The fleet's followers of the event log, by the names of their cursors.
const (
	fleetPublisher = "fleet-events"
	fleetFinisher  = "fleet-claims"
)

// logReaders are the cursors whose events retention keeps until they are
// passed: the configured webhooks', and on a fleet host its publisher's
// and claim finisher's, which a host cut off from its cluster holds back.
func logReaders(cfg *config.Config) []string {
	var readers []string
	for _, w := range cfg.Webhooks {
		readers = append(readers, w.URL)
	}
	if cfg.Fleet.Enabled() {
		readers = append(readers, store.FollowerEndpoint(fleetPublisher), store.FollowerEndpoint(fleetFinisher))
	}
	return readers
}
