package retention

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// serve serves r's routes behind httpapi, as the service does.
func serve(t *testing.T, r *Retention) *httptest.Server {
	t.Helper()
	api, err := httpapi.New(r.Routes(), []httpapi.Fragment{OpenAPI()}, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv
}

func TestStorageAndBackupWhileRunning(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 25 {
		if err := st.Events.AppendEvent(context.Background(), "test.kept", "test", "obj", i+1, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	srv := serve(t, New(st.Upkeep, Options{}))

	resp, err := http.Get(srv.URL + "/v1/storage")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"database_bytes":`) || strings.Contains(string(body), `"free_bytes":0`) {
		t.Fatalf("storage: %d %s", resp.StatusCode, body)
	}

	resp, err = http.Post(srv.URL+"/v1/backup", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.sqlite3" {
		t.Fatalf("backup: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM events WHERE type = 'test.kept'").Scan(&n); err != nil || n != 25 {
		t.Fatalf("copy has %d events (%v), want 25", n, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(st.Dir(), backupPrefix+"*"))
	if len(leftovers) != 0 {
		t.Fatalf("backup left %v in the data directory", leftovers)
	}
}

// fakeStore records purges and answers usage as set.
type fakeStore struct {
	dir    string
	usage  store.Usage
	purges chan store.Retention
}

func (f *fakeStore) Purge(ctx context.Context, r store.Retention) (store.PurgeResult, error) {
	select {
	case f.purges <- r:
		return store.PurgeResult{}, nil
	case <-ctx.Done():
		return store.PurgeResult{}, ctx.Err()
	}
}
func (f *fakeStore) Usage(context.Context) (store.Usage, error) { return f.usage, nil }
func (f *fakeStore) Backup(context.Context, string) error {
	return errors.New("no backup expected")
}
func (f *fakeStore) Dir() string { return f.dir }

// A backup that may not fit the data directory is refused before it is
// made.
func TestBackupRefusedWithoutRoomForTheCopy(t *testing.T) {
	fs := &fakeStore{dir: t.TempDir(), usage: store.Usage{DatabaseBytes: 1000, WALBytes: 100, FreeBytes: 1099}}
	srv := serve(t, New(fs, Options{}))
	resp, err := http.Post(srv.URL+"/v1/backup", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInsufficientStorage || !strings.Contains(string(body), `"code":"insufficient_storage"`) {
		t.Fatalf("%d %s, want 507 insufficient_storage", resp.StatusCode, body)
	}
}

// Run purges with the configured policy, then once per interval, and ends
// with its context; each purge clears backup copies a crash left behind.
func TestRunPurgesOnScheduleAndRemovesStaleBackups(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	files := map[string]time.Duration{ // name: age
		"backup-old.db.tmp":   7 * time.Hour,
		"backup-fresh.db.tmp": time.Hour,
		"backup-old.db":       7 * time.Hour, // not a temporary copy
		"gsmbridge.db":        7 * time.Hour,
	}
	for name, age := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	fs := &fakeStore{dir: dir, purges: make(chan store.Retention)}
	cfg := config.Retention{BlankTextAfter: time.Hour, DeleteAfter: 2 * time.Hour, EventsAfter: 3 * time.Hour, PurgeInterval: time.Millisecond}
	r := New(fs, Options{Config: cfg, Webhooks: []string{"https://pay.example/hook"}, Now: func() time.Time { return now }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	for range 2 {
		got := <-fs.purges
		want := store.Retention{BlankTextAfter: time.Hour, DeleteAfter: 2 * time.Hour, EventsAfter: 3 * time.Hour, Webhooks: []string{"https://pay.example/hook"}}
		if got.BlankTextAfter != want.BlankTextAfter || got.DeleteAfter != want.DeleteAfter || got.EventsAfter != want.EventsAfter || !slices.Equal(got.Webhooks, want.Webhooks) {
			t.Fatalf("purge policy %+v, want %+v", got, want)
		}
	}
	cancel()
	<-done
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{"backup-fresh.db.tmp", "backup-old.db", "gsmbridge.db"}; !slices.Equal(left, want) {
		t.Fatalf("data directory holds %q, want %q", left, want)
	}
}
