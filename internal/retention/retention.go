// Package retention keeps the data directory in bounds: it purges personal
// data on the configured schedule, removes backup copies a crash left
// behind, and serves GET /v1/storage and POST /v1/backup.
package retention

import (
	"context"
	_ "embed"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Store is what retention needs of the store.
type Store interface {
	Purge(ctx context.Context, r store.Retention) (store.PurgeResult, error)
	Usage(ctx context.Context) (store.Usage, error)
	Backup(ctx context.Context, path string) error
	Dir() string
}

// Options are what New needs beyond the store.
type Options struct {
	Config config.Retention
	// Webhooks are the configured endpoints' URLs, and the fleet's
	// followers' cursor names: events one of them has not taken yet are
	// kept past events_after.
	Webhooks []string
	Logger   *slog.Logger
	Now      func() time.Time
}

// Retention purges and backs up one store. Safe for concurrent use.
type Retention struct {
	store    Store
	cfg      config.Retention
	webhooks []string
	log      *slog.Logger
	now      func() time.Time
}

// New prepares retention for st; Run purges.
func New(st Store, o Options) *Retention {
	r := &Retention{store: st, cfg: o.Config, webhooks: o.Webhooks, log: o.Logger, now: o.Now}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

//go:embed openapi.json
var fragment []byte

// OpenAPI is the part of the API document that describes Routes.
func OpenAPI() httpapi.Fragment {
	return httpapi.Fragment{Name: "internal/retention/openapi.json", JSON: fragment}
}

// Routes are the endpoints retention serves.
func (r *Retention) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/v1/storage", Scope: config.ScopeRead, Handler: r.storage},
		{Method: "POST", Pattern: "/v1/backup", Scope: config.ScopeAdmin, Handler: r.backup},
	}
}

// staleBackupAge is when a temporary backup copy is surely abandoned: no
// download runs that long.
const staleBackupAge = 6 * time.Hour

// Run purges personal data on the configured schedule until ctx ends. The
// first purge waits a little, at most a minute, so that start-up
// (recovery, queue load, modem setup) has the writer to itself; waiting a
// whole interval would never purge on a host that restarts more often.
func (r *Retention) Run(ctx context.Context) {
	interval := r.cfg.PurgeInterval
	first := time.NewTimer(min(interval, time.Minute))
	select {
	case <-ctx.Done():
		first.Stop()
		return
	case <-first.C:
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r.purge(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Retention) purge(ctx context.Context) {
	c := r.cfg
	policy := store.Retention{BlankTextAfter: c.BlankTextAfter, DeleteAfter: c.DeleteAfter, EventsAfter: c.EventsAfter, Webhooks: r.webhooks}
	res, err := r.store.Purge(ctx, policy)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("retention purge", "err", err)
		}
		return
	}
	if res != (store.PurgeResult{}) {
		r.log.Info("retention purge", "texts_blanked", res.TextsBlanked, "rows_deleted", res.RowsDeleted,
			"events_deleted", res.EventsDeleted, "pages_freed", res.PagesFreed)
	}
	if res.EventsHeld {
		r.log.Warn("events past events_after are kept because a webhook or the fleet has not taken them yet; see GET /v1/webhooks")
	}
	r.removeStaleBackups()
}

func (r *Retention) removeStaleBackups() {
	dir := r.store.Dir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.log.Error("list data directory", "err", err)
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), backupPrefix) || !strings.HasSuffix(e.Name(), ".db.tmp") {
			continue
		}
		if fi, err := e.Info(); err == nil && r.now().Sub(fi.ModTime()) > staleBackupAge {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
