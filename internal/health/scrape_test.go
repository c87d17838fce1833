package health

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gsmbridge/gsmbridge/internal/scrape"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

type storeFiles struct {
	dir string
	h   store.Health
}

func (s storeFiles) Health() store.Health { return s.h }
func (s storeFiles) Dir() string          { return s.dir }
func (s storeFiles) Stats() store.WriterStats {
	return store.WriterStats{Commits: 9, LastCommit: time.Unix(1796472000, 0)}
}

// The database's files are measured (a missing WAL is 0 bytes); a deleted
// database fails the part, but store_up and the failed writes still say
// why.
func TestScrapeStorage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gsmbridge.db"), make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	c := scrape.New(slog.New(slog.DiscardHandler), ScrapeStorage(storeFiles{dir: dir, h: store.Health{Failures: 2}}))
	want := `
# HELP gsmbridge_database_size_bytes Size of the database files (db, wal).
# TYPE gsmbridge_database_size_bytes gauge
gsmbridge_database_size_bytes{file="db"} 4096
gsmbridge_database_size_bytes{file="wal"} 0
# HELP gsmbridge_store_commits_total Transactions the store's writer committed.
# TYPE gsmbridge_store_commits_total counter
gsmbridge_store_commits_total 9
# HELP gsmbridge_store_last_commit_timestamp_seconds When the store's writer last committed.
# TYPE gsmbridge_store_last_commit_timestamp_seconds gauge
gsmbridge_store_last_commit_timestamp_seconds 1.796472e+09
# HELP gsmbridge_store_up 1 while the store's writes become durable, 0 since one failed on the disk, the file system or the database file.
# TYPE gsmbridge_store_up gauge
gsmbridge_store_up 1
# HELP gsmbridge_store_write_failures_total Writes the store refused because the disk, the file system or the database file failed.
# TYPE gsmbridge_store_write_failures_total counter
gsmbridge_store_write_failures_total 2
`
	names := []string{"gsmbridge_database_size_bytes", "gsmbridge_store_commits_total", "gsmbridge_store_last_commit_timestamp_seconds",
		"gsmbridge_store_up", "gsmbridge_store_write_failures_total"}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c, "gsmbridge_data_dir_free_bytes", "gsmbridge_data_dir_size_bytes"); n != 2 {
		t.Errorf("%d data directory series, want free and size", n)
	}

	if err := os.Remove(filepath.Join(dir, "gsmbridge.db")); err != nil {
		t.Fatal(err)
	}
	c = scrape.New(slog.New(slog.DiscardHandler), ScrapeStorage(storeFiles{dir: dir, h: store.Health{Err: store.ErrReplaced, Failures: 3}}))
	want = `
# HELP gsmbridge_scrape_collector_success 1 when the collector read its source, 0 when it failed (see the daemon's log).
# TYPE gsmbridge_scrape_collector_success gauge
gsmbridge_scrape_collector_success{collector="storage"} 0
# HELP gsmbridge_store_up 1 while the store's writes become durable, 0 since one failed on the disk, the file system or the database file.
# TYPE gsmbridge_store_up gauge
gsmbridge_store_up 0
# HELP gsmbridge_store_write_failures_total Writes the store refused because the disk, the file system or the database file failed.
# TYPE gsmbridge_store_write_failures_total counter
gsmbridge_store_write_failures_total 3
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "gsmbridge_scrape_collector_success", "gsmbridge_store_up",
		"gsmbridge_store_write_failures_total"); err != nil {
		t.Error(err)
	}
}

func TestScrapeBuild(t *testing.T) {
	c := scrape.New(slog.New(slog.DiscardHandler), ScrapeBuild())
	if n := testutil.CollectAndCount(c, "gsmbridge_build_info"); n != 1 {
		t.Errorf("%d build_info series, want 1", n)
	}
}
