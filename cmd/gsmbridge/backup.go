package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"

	_ "modernc.org/sqlite" // checks the downloaded copy

	"github.com/gsmbridge/gsmbridge/client"
)

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("backup", stdout, help{
		synopsis: "[flags] FILE",
		about: "Downloads a consistent copy of the running daemon's database to FILE (which must\n" +
			"not exist) and checks it. The daemon keeps working meanwhile. To restore, stop\n" +
			"the daemon and put FILE in its data directory as gsmbridge.db.",
		examples: []string{
			"gsmbridge backup /var/backups/gsmbridge-$(date +%F).db",
			"gsmbridge backup --json copy.db    # {\"file\",\"bytes\",\"messages\",\"events\",\"integrity\"}",
		},
	})
	cf := addClientFlags(flags)
	pos, err := parseArgs(flags, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want exactly one argument: the file to write"}
	}
	file := pos[0]
	if _, err := os.Lstat(file); err == nil {
		return fmt.Errorf("%s: %w; choose a new name", file, fs.ErrExist)
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	defer c.Close()
	part := file + ".part"
	n, err := downloadBackup(ctx, c, part)
	if err != nil {
		os.Remove(part)
		return err
	}
	summary, err := checkBackup(ctx, part)
	if err != nil {
		os.Remove(part)
		return err
	}
	// A hard link does not replace an existing file, unlike rename: a FILE
	// that appeared meanwhile is kept.
	if err := os.Link(part, file); err != nil {
		os.Remove(part)
		return fmt.Errorf("keep the copy: %w", err)
	}
	os.Remove(part)
	summary.File, summary.Bytes = file, n
	if cf.json {
		return writeJSONLine(stdout, summary)
	}
	_, err = fmt.Fprintf(stdout, "wrote %s: %d bytes, %d messages, %d events, integrity %s\n",
		file, n, summary.Messages, summary.Events, summary.Integrity)
	return err
}

// downloadBackup streams POST /v1/backup into path and syncs it. --timeout
// bounds the wait for the answer to start, not the whole transfer: a large
// database takes as long as it takes.
func downloadBackup(ctx context.Context, c *apiClient, path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := c.Ops.Backup(ctx, f)
	if err != nil {
		f.Close()
		var e *client.Error
		if errors.As(err, &e) || n == 0 {
			return 0, c.explain(err)
		}
		return n, fmt.Errorf("download backup: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("download backup: %w", err)
	}
	return n, nil
}

// backupCopy describes a kept copy; it is what --json prints.
type backupCopy struct {
	File      string `json:"file"`
	Bytes     int64  `json:"bytes"`
	Messages  int64  `json:"messages"`
	Events    int64  `json:"events"`
	Integrity string `json:"integrity"`
}

// checkBackup opens the copy read-only and runs SQLite's quick check, so a
// truncated or damaged download is never kept as a backup.
func checkBackup(ctx context.Context, path string) (backupCopy, error) {
	var c backupCopy
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return c, fmt.Errorf("check copy: %w", err)
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&c.Integrity); err != nil {
		return c, fmt.Errorf("check copy: %w", err)
	}
	if c.Integrity != "ok" {
		return c, errors.New("check copy: the downloaded database is damaged: " + c.Integrity)
	}
	if err := db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM events)").Scan(&c.Messages, &c.Events); err != nil {
		return c, fmt.Errorf("check copy: not a gsmbridge database: %w", err)
	}
	return c, nil
}
