package store

// schemaUSSD: balances read by USSD or from operator SMS, the per-SIM balance
// schedule and low-balance state, the USSD sessions that hold a modem, and
// the USSD request dialect learned per modem model and firmware.
const schemaUSSD = `
CREATE TABLE balances (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	iccid      TEXT NOT NULL,
	modem_id   TEXT NOT NULL DEFAULT '',
	amount     TEXT NOT NULL DEFAULT '',
	currency   TEXT NOT NULL DEFAULT '',
	parsed     INTEGER NOT NULL,
	raw        TEXT NOT NULL,
	body       TEXT NOT NULL,
	source     TEXT NOT NULL,
	checked_at INTEGER NOT NULL
) STRICT;
CREATE INDEX balances_sim ON balances(iccid, checked_at);

-- One row per SIM whose balance is watched. low is the hysteresis of the
-- balance.low event: set when a balance fell under the threshold, cleared
-- when one came back at or over it.
CREATE TABLE balance_state (
	iccid          TEXT PRIMARY KEY,
	low            INTEGER NOT NULL DEFAULT 0,
	low_since      INTEGER NOT NULL DEFAULT 0,
	next_check     INTEGER NOT NULL DEFAULT 0,
	checks         INTEGER NOT NULL DEFAULT 0,
	parse_failures INTEGER NOT NULL DEFAULT 0,
	check_failures INTEGER NOT NULL DEFAULT 0,
	last_error     TEXT NOT NULL DEFAULT '',
	last_error_at  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A USSD exchange or interactive session holding a modem. At most one per
-- modem is live (running: a request is on the air; open: the network waits
-- for the user's answer); the partial unique index is the lock.
CREATE TABLE ussd_sessions (
	id           TEXT PRIMARY KEY,
	modem_id     TEXT NOT NULL,
	iccid        TEXT NOT NULL DEFAULT '',
	purpose      TEXT NOT NULL,
	state        TEXT NOT NULL,
	started_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	closed_at    INTEGER NOT NULL DEFAULT 0,
	close_reason TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX ussd_sessions_live ON ussd_sessions(modem_id) WHERE state IN ('running', 'open');

CREATE TABLE ussd_dialects (
	model_firmware TEXT PRIMARY KEY,
	dialect        TEXT NOT NULL,
	learned_at     INTEGER NOT NULL
) STRICT;
`
