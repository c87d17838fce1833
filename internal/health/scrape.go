package health

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/gsmbridge/gsmbridge/internal/scrape"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// ScrapeBuild names the running build; the value is always 1.
func ScrapeBuild() scrape.Part {
	return scrape.Part{Name: "build",
		Defs:    []scrape.Def{{Name: "build_info", Help: "Build of the running daemon; the value is always 1.", Labels: []string{"version", "revision", "goversion"}}},
		Collect: collectBuild}
}

func collectBuild(_ context.Context, e scrape.Emitter) error {
	version, revision, goversion := "unknown", "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version, goversion = bi.Main.Version, bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	e.Gauge("build_info", 1, version, revision, goversion)
	return nil
}

// StoreFiles is the store as its storage gauges read it (*store.Store):
// its health, its directory and its writer's figures.
type StoreFiles interface {
	Health() store.Health
	Dir() string
	Stats() store.WriterStats
}

var storageDefs = []scrape.Def{
	{Name: "database_size_bytes", Help: "Size of the database files (db, wal).", Labels: []string{"file"}},
	{Name: "data_dir_free_bytes", Help: "Space left for the daemon on the data directory's file system."},
	{Name: "data_dir_size_bytes", Help: "Size of the data directory's file system."},
	{Name: "store_commits_total", Help: "Transactions the store's writer committed."},
	{Name: "store_last_commit_timestamp_seconds", Help: "When the store's writer last committed."},
	{Name: "store_up", Help: "1 while the store's writes become durable, 0 since one failed on the disk, the file system or the database file."},
	{Name: "store_write_failures_total", Help: "Writes the store refused because the disk, the file system or the database file failed."},
}

// ScrapeStorage reads the database's files, the data directory's disk and
// the store's writer at scrape time.
func ScrapeStorage(st StoreFiles) scrape.Part {
	return scrape.Part{Name: "storage", Defs: storageDefs, Collect: func(_ context.Context, e scrape.Emitter) error {
		return collectStorage(st, e)
	}}
}

func collectStorage(st StoreFiles, e scrape.Emitter) error {
	// First: a deleted database fails the stat below, and these say why.
	h := st.Health()
	e.Gauge("store_up", scrape.Bool(h.Err == nil))
	e.Counter("store_write_failures_total", float64(h.Failures))
	path := filepath.Join(st.Dir(), "gsmbridge.db")
	for _, f := range []struct{ label, path string }{{"db", path}, {"wal", path + "-wal"}} {
		fi, err := os.Stat(f.path)
		if err != nil {
			if f.label == "wal" && os.IsNotExist(err) {
				e.Gauge("database_size_bytes", 0, f.label)
				continue
			}
			return fmt.Errorf("database size: %w", err)
		}
		e.Gauge("database_size_bytes", float64(fi.Size()), f.label)
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(st.Dir(), &fs); err != nil {
		return fmt.Errorf("free space of the data directory: %w", err)
	}
	e.Gauge("data_dir_free_bytes", float64(fs.Bavail)*float64(fs.Bsize))
	e.Gauge("data_dir_size_bytes", float64(fs.Blocks)*float64(fs.Bsize))
	ws := st.Stats()
	e.Counter("store_commits_total", float64(ws.Commits))
	e.Timestamp("store_last_commit_timestamp_seconds", ws.LastCommit)
	return nil
}
