package store

import (
	"context"
	"database/sql"
	"time"
)

// collect runs a read and scans every row with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// pageQuery is one keyset-paged listing: the rows of a table whose key is
// past the cursor, created since a time, optionally in one state.
type pageQuery struct {
	columns, table, key string
	after               any
	since               time.Time
	state               string
	limit               int
}

// listPage reads one page and says whether more rows follow it.
func listPage[T any](ctx context.Context, db *sql.DB, p pageQuery, scan func(scanner) (T, error)) (list []T, more bool, err error) {
	q := "SELECT " + p.columns + " FROM " + p.table + " WHERE " + p.key + " > ? AND created_at >= ?"
	args := []any{p.after, ms(p.since)}
	if p.state != "" {
		q += " AND state = ?"
		args = append(args, p.state)
	}
	q += " ORDER BY " + p.key + " LIMIT ?"
	args = append(args, p.limit+1)
	rows, err := db.QueryContext(ctx, q, args...)
	if list, err = collect(rows, err, scan); err != nil {
		return nil, false, err
	}
	if len(list) > p.limit {
		return list[:p.limit], true, nil
	}
	return list, false, nil
}
