package store

import (
	"database/sql"
	"fmt"
)

// migrations are applied in order; the database's user_version says how many
// ran. Never edit a released migration: add a new one.
//
// Until the first release, migration 1 is assembled from one schema constant
// per feature, each kept in that feature's file.
var migrations = []string{
	schemaCore + schemaEvents + schemaConfirmations + schemaUSSD,
	// Who caused an event: the name of the API token whose request it was.
	`ALTER TABLE events ADD COLUMN actor TEXT NOT NULL DEFAULT ''`,
	// Status reports are matched by the reference a part got when it was
	// sent (mr >= 0): parts not sent yet stay out of the index, so a
	// message's accept and its send's start write one page fewer each.
	`DROP INDEX parts_report;
CREATE INDEX parts_report ON message_parts(iccid, mr, sent_at) WHERE mr >= 0;`,
}

// schemaCore: the send path, SIMs and modems, receiving, and the event log.
const schemaCore = `
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE modems (
	id           TEXT PRIMARY KEY,
	imei         TEXT NOT NULL DEFAULT '',
	usb_path     TEXT NOT NULL DEFAULT '',
	port         TEXT NOT NULL DEFAULT '',
	name         TEXT NOT NULL DEFAULT '',
	manufacturer TEXT NOT NULL DEFAULT '',
	model        TEXT NOT NULL DEFAULT '',
	revision     TEXT NOT NULL DEFAULT '',
	iccid        TEXT NOT NULL DEFAULT '',
	seq          INTEGER NOT NULL DEFAULT 0,
	first_seen   INTEGER NOT NULL,
	last_seen    INTEGER NOT NULL
) STRICT;

CREATE TABLE sims (
	iccid            TEXT PRIMARY KEY,
	imsi             TEXT NOT NULL DEFAULT '',
	msisdn           TEXT NOT NULL DEFAULT '',
	plmn             TEXT NOT NULL DEFAULT '',
	smsc             TEXT NOT NULL DEFAULT '',
	modem_id         TEXT NOT NULL DEFAULT '',
	state            TEXT NOT NULL DEFAULT 'active',
	state_reason     TEXT NOT NULL DEFAULT '',
	state_since      INTEGER NOT NULL DEFAULT 0,
	fail_streak      INTEGER NOT NULL DEFAULT 0,
	fail_recipients  TEXT NOT NULL DEFAULT '',
	seq              INTEGER NOT NULL DEFAULT 1,
	receive_stalled  INTEGER NOT NULL DEFAULT 0,
	last_sent_at     INTEGER NOT NULL DEFAULT 0,
	last_received_at INTEGER NOT NULL DEFAULT 0,
	first_seen       INTEGER NOT NULL,
	last_seen        INTEGER NOT NULL
) STRICT;

-- One row per accepted message. state is the API's state; seq counts its
-- changes and is the per-object sequence number of its events.
CREATE TABLE messages (
	id            TEXT PRIMARY KEY,
	reference     TEXT NOT NULL DEFAULT '',
	to_number     TEXT NOT NULL,
	body          TEXT NOT NULL,
	body_blanked  INTEGER NOT NULL DEFAULT 0,
	encoding      TEXT NOT NULL,
	parts         INTEGER NOT NULL,
	pin_modem     TEXT NOT NULL DEFAULT '',
	pin_operator  TEXT NOT NULL DEFAULT '',
	report        INTEGER NOT NULL DEFAULT 0,
	concat_ref    INTEGER NOT NULL DEFAULT 0,
	state         TEXT NOT NULL,
	seq           INTEGER NOT NULL DEFAULT 1,
	iccid         TEXT NOT NULL DEFAULT '',
	modem_id      TEXT NOT NULL DEFAULT '',
	attempts      INTEGER NOT NULL DEFAULT 0,
	next_attempt  INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	sent_at       INTEGER NOT NULL DEFAULT 0,
	final_at      INTEGER NOT NULL DEFAULT 0,
	error_code    TEXT NOT NULL DEFAULT '',
	error_text    TEXT NOT NULL DEFAULT '',
	owner         TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX messages_state ON messages(state, created_at);
CREATE INDEX messages_created ON messages(created_at, id);

-- part state: pending, sending (PDU may be on the wire), sent, unknown,
-- delivered, undelivered, failed.
CREATE TABLE message_parts (
	message_id   TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	seq          INTEGER NOT NULL,
	state        TEXT NOT NULL DEFAULT 'pending',
	mr           INTEGER NOT NULL DEFAULT -1,
	iccid        TEXT NOT NULL DEFAULT '',
	sent_at      INTEGER NOT NULL DEFAULT 0,
	report_at    INTEGER NOT NULL DEFAULT 0,
	report_status INTEGER NOT NULL DEFAULT -1,
	PRIMARY KEY (message_id, seq)
) STRICT;
CREATE INDEX parts_report ON message_parts(iccid, mr, sent_at);

CREATE TABLE idempotency (
	key        TEXT PRIMARY KEY,
	request    TEXT NOT NULL,
	message_id TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

-- Received SMS, complete or given up on. dedup is the content key of its
-- first part.
CREATE TABLE inbox (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	iccid       TEXT NOT NULL,
	modem_id    TEXT NOT NULL,
	sender      TEXT NOT NULL,
	body        TEXT NOT NULL,
	body_blanked INTEGER NOT NULL DEFAULT 0,
	encoding    TEXT NOT NULL,
	plain       INTEGER NOT NULL DEFAULT 1,
	complete    INTEGER NOT NULL DEFAULT 1,
	parts       INTEGER NOT NULL DEFAULT 1,
	scts        INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	dedup       TEXT NOT NULL UNIQUE
) STRICT;

-- Every received PDU ever stored (by content), so a re-read is recognised
-- whether its message is complete or still waiting for siblings.
CREATE TABLE inbox_seen (
	key        TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL
) STRICT;

-- Parts of long received messages waiting for their siblings.
CREATE TABLE inbox_parts (
	concat_key  TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	total       INTEGER NOT NULL,
	iccid       TEXT NOT NULL,
	modem_id    TEXT NOT NULL,
	sender      TEXT NOT NULL,
	body        TEXT NOT NULL,
	encoding    TEXT NOT NULL,
	plain       INTEGER NOT NULL,
	scts        INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	PRIMARY KEY (concat_key, seq)
) STRICT;

CREATE TABLE status_reports (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	iccid       TEXT NOT NULL,
	mr          INTEGER NOT NULL,
	recipient   TEXT NOT NULL,
	status      INTEGER NOT NULL,
	scts        INTEGER NOT NULL,
	discharge   INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	message_id  TEXT NOT NULL DEFAULT '',
	part        INTEGER NOT NULL DEFAULT 0,
	dedup       TEXT NOT NULL UNIQUE
) STRICT;

-- The event log: id is the global order, (kind, object_id, object_seq) the
-- per-object order; payload is the whole object as the API shows it.
CREATE TABLE events (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	type       TEXT NOT NULL,
	kind       TEXT NOT NULL,
	object_id  TEXT NOT NULL,
	object_seq INTEGER NOT NULL,
	payload    TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX events_object ON events(kind, object_id, object_seq);
`

func migrate(db *sql.DB) error {
	var version int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("store: database schema version %d is newer than this gsmbridge knows (%d): refusing to touch it", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		tx, err := db.Begin()
		if err != nil {
			return fmt.Errorf("store: migration %d: %w", v+1, err)
		}
		if _, err := tx.Exec(migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %d: %w", v+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migration %d: %w", v+1, err)
		}
	}
	return nil
}
