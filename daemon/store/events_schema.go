package store

// schemaEvents: webhook delivery state. Each endpoint walks the event log in
// order with its own cursor, so one slow receiver never holds back another
// and events reach each receiver in log order.
const schemaEvents = `
CREATE TABLE webhook_cursors (
	endpoint   TEXT PRIMARY KEY,
	cursor     INTEGER NOT NULL DEFAULT 0,
	attempts   INTEGER NOT NULL DEFAULT 0,
	first_try  INTEGER NOT NULL DEFAULT 0,
	next_at    INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE dead_letters (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	endpoint   TEXT NOT NULL,
	event_id   INTEGER NOT NULL,
	attempts   INTEGER NOT NULL,
	last_error TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
`
