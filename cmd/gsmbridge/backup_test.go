package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBackupVerbWritesACheckedCopyAndNeverOverwrites(t *testing.T) {
	addr, cancelMessage := startEventsDaemon(t, "test.a", "test.b")
	cancelMessage()
	file := filepath.Join(t.TempDir(), "copy.db")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"backup", "--addr", addr, file}, &out, &errOut); code != 0 {
		t.Fatalf("backup exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "1 messages, 3 events, integrity ok") {
		t.Fatalf("backup said %q", out.String())
	}
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var types string
	if err := db.QueryRow("SELECT group_concat(type, ',') FROM (SELECT type FROM events ORDER BY id)").Scan(&types); err != nil {
		t.Fatal(err)
	}
	if types != "test.a,test.b,message.cancelled" {
		t.Fatalf("copy's events: %s", types)
	}
	if _, err := os.Stat(file + ".part"); !os.IsNotExist(err) {
		t.Fatalf("left the partial file: %v", err)
	}

	before, _ := os.ReadFile(file)
	errOut.Reset()
	if code := run(context.Background(), []string{"backup", "--addr", addr, file}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "exists") {
		t.Fatalf("backup over an existing file: exit %d: %s", code, errOut.String())
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(before, after) {
		t.Fatal("existing file was changed")
	}
	if code := run(context.Background(), []string{"backup", "--addr", addr}, &out, &errOut); code != 2 {
		t.Fatalf("backup without FILE: exit %d", code)
	}
}
