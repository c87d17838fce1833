package service

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"syscall"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// storeCollector reads the store: messages and confirmations by state, the
// webhooks' backlogs, and the database's files, disk and writer.
type storeCollector struct {
	store    *store.Store
	webhooks []config.Webhook
}

// The states messages and confirmations are counted by, each always
// emitted.
var (
	messageStates = []store.MessageState{store.Queued, store.Sending, store.Sent, store.Delivered, store.Undelivered, store.Failed, store.Expired, store.Unknown, store.Cancelled}
	confirmStates = payment.States
)

var stateDefs = []metricDef{
	{"messages", "Stored messages by state.", []string{"state"}},
	{"confirmations", "Stored payment confirmations by state.", []string{"state"}},
}

var webhookDefs = []metricDef{
	{"webhook_backlog_events", "Events the endpoint selects that are not delivered yet.", []string{"endpoint"}},
	{"webhook_dead_letters", "Events the endpoint gave up on.", []string{"endpoint"}},
	{"webhook_head_attempts", "Delivery attempts so far of the event the endpoint is stuck on.", []string{"endpoint"}},
}

var storageDefs = []metricDef{
	{"database_size_bytes", "Size of the database files (db, wal).", []string{"file"}},
	{"data_dir_free_bytes", "Space left for the daemon on the data directory's file system.", nil},
	{"data_dir_size_bytes", "Size of the data directory's file system.", nil},
	{"store_commits_total", "Transactions the store's writer committed.", nil},
	{"store_last_commit_timestamp_seconds", "When the store's writer last committed.", nil},
	{"store_up", "1 while the store's writes become durable, 0 since one failed on the disk, the file system or the database file.", nil},
	{"store_write_failures_total", "Writes the store refused because the disk, the file system or the database file failed.", nil},
}

// collectStates counts messages and confirmations by state: two GROUP BY
// queries over the state indexes, on the store's reader pool.
func (c storeCollector) collectStates(ctx context.Context, e emitter) error {
	messages, err := c.store.Messages.MessagesByState(ctx)
	if err != nil {
		return err
	}
	confirmations, err := c.store.Confirmations.ConfirmationsByState(ctx)
	if err != nil {
		return err
	}
	for _, s := range messageStates {
		e.gauge("messages", float64(messages[string(s)]), string(s))
	}
	for _, s := range confirmStates {
		e.gauge("confirmations", float64(confirmations[string(s)]), string(s))
	}
	return nil
}

func (c storeCollector) collectWebhooks(ctx context.Context, e emitter) error {
	for _, wh := range c.webhooks {
		ep := endpointLabel(wh.URL)
		cur, err := c.store.Deliveries.GetWebhookCursor(ctx, wh.URL)
		if err != nil {
			return err
		}
		backlog, err := c.store.Events.CountEvents(ctx, cur.Cursor, store.EventTypes(wh.Events))
		if err != nil {
			return err
		}
		dead, err := c.store.Deliveries.CountDeadLetters(ctx, wh.URL)
		if err != nil {
			return err
		}
		e.gauge("webhook_backlog_events", float64(backlog), ep)
		e.gauge("webhook_dead_letters", float64(dead), ep)
		e.gauge("webhook_head_attempts", float64(cur.Attempts), ep)
	}
	return nil
}

// endpointLabel shows where a webhook goes without what may authenticate it:
// user info and query strings are dropped.
func endpointLabel(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "invalid"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

func (c storeCollector) collectStorage(_ context.Context, e emitter) error {
	// First: a deleted database fails the stat below, and these say why.
	h := c.store.Health()
	e.gauge("store_up", boolValue(h.Err == nil))
	e.counter("store_write_failures_total", float64(h.Failures))
	path := filepath.Join(c.store.Dir(), "gsmbridge.db")
	for _, f := range []struct{ label, path string }{{"db", path}, {"wal", path + "-wal"}} {
		fi, err := os.Stat(f.path)
		if err != nil {
			if f.label == "wal" && os.IsNotExist(err) {
				e.gauge("database_size_bytes", 0, f.label)
				continue
			}
			return fmt.Errorf("database size: %w", err)
		}
		e.gauge("database_size_bytes", float64(fi.Size()), f.label)
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(c.store.Dir(), &fs); err != nil {
		return fmt.Errorf("free space of the data directory: %w", err)
	}
	e.gauge("data_dir_free_bytes", float64(fs.Bavail)*float64(fs.Bsize))
	e.gauge("data_dir_size_bytes", float64(fs.Blocks)*float64(fs.Bsize))
	st := c.store.Stats()
	e.counter("store_commits_total", float64(st.Commits))
	e.timestamp("store_last_commit_timestamp_seconds", st.LastCommit)
	return nil
}
