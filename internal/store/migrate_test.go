package store

import (
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A database a newer gsmbridge migrated is refused with a clear error and
// left as it was, so the newer version can still open it.
func TestOpenRefusesANewerSchemaAndLeavesItAlone(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	accept(t, s, NewMessage{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	newer := len(migrations) + 1
	if _, err := db.Exec("PRAGMA user_version = " + itoa(newer)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "newer than this gsmbridge knows") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
	db, err = sql.Open("sqlite", "file:"+filepath.Join(dir, dbFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v, n int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != newer {
		t.Fatalf("user_version %d (%v), want %d untouched", v, err, newer)
	}
	if err := db.QueryRow("SELECT count(*) FROM messages").Scan(&n); err != nil || n != 1 {
		t.Fatalf("messages %d (%v)", n, err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
