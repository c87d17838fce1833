package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/store"
)

// staleBackupAge is when a temporary backup copy is surely abandoned: no
// download runs that long.
const staleBackupAge = 6 * time.Hour

// runRetention purges personal data on the configured schedule until ctx
// ends. The first purge waits a little, at most a minute, so that start-up
// (recovery, queue load, modem setup) has the writer to itself; waiting a
// whole interval would never purge on a host that restarts more often.
func (d *Daemon) runRetention(ctx context.Context) {
	interval := d.cfg.Retention.PurgeInterval
	if !sleepCtx(ctx, min(interval, time.Minute)) {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		d.purge(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Daemon) purge(ctx context.Context) {
	r := d.cfg.Retention
	policy := store.Retention{BlankTextAfter: r.BlankTextAfter, DeleteAfter: r.DeleteAfter, EventsAfter: r.EventsAfter}
	for _, w := range d.cfg.Webhooks {
		policy.Webhooks = append(policy.Webhooks, w.URL)
	}
	res, err := d.store.Purge(ctx, policy)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("retention purge", "err", err)
		}
		return
	}
	if res != (store.PurgeResult{}) {
		d.log.Info("retention purge", "texts_blanked", res.TextsBlanked, "rows_deleted", res.RowsDeleted,
			"events_deleted", res.EventsDeleted, "pages_freed", res.PagesFreed)
	}
	if res.EventsHeld {
		d.log.Warn("events past events_after are kept because a webhook has not delivered them; see GET /v1/webhooks")
	}
	d.removeStaleBackups()
}

func (d *Daemon) removeStaleBackups() {
	entries, err := os.ReadDir(d.store.Dir())
	if err != nil {
		d.log.Error("list data directory", "err", err)
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), backupPrefix) || !strings.HasSuffix(e.Name(), ".db.tmp") {
			continue
		}
		if fi, err := e.Info(); err == nil && d.now().Sub(fi.ModTime()) > staleBackupAge {
			os.Remove(filepath.Join(d.store.Dir(), e.Name()))
		}
	}
}
