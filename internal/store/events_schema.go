package store

// schemaEvents: webhook delivery state. Each endpoint walks the event log in
// order with its own cursor, so one slow receiver never holds back another
// and events reach each receiver in log order. attempts, first_try, next_at
// and last_error describe the delivery of head_event, the event after the
// cursor being retried; they survive a restart so that give-up time counts
// from the first try, not from the last start.
const schemaEvents = `
CREATE TABLE webhook_cursors (
	endpoint   TEXT PRIMARY KEY,
	cursor     INTEGER NOT NULL DEFAULT 0,
	head_event INTEGER NOT NULL DEFAULT 0,
	attempts   INTEGER NOT NULL DEFAULT 0,
	first_try  INTEGER NOT NULL DEFAULT 0,
	next_at    INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
) STRICT;

-- Events an endpoint gave up on. The event row itself is kept by retention
-- while a dead letter points at it, so the letter can still be re-delivered.
CREATE TABLE dead_letters (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	endpoint   TEXT NOT NULL,
	event_id   INTEGER NOT NULL,
	attempts   INTEGER NOT NULL,
	first_try  INTEGER NOT NULL,
	last_error TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX dead_letters_endpoint ON dead_letters(endpoint, id);
CREATE INDEX dead_letters_event ON dead_letters(event_id);
CREATE INDEX events_created ON events(created_at);
`
