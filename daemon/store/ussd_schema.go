package store

// schemaUSSD: balances read by USSD or from operator SMS, and the USSD
// request dialect learned per modem model and firmware.
const schemaUSSD = `
CREATE TABLE balances (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	iccid      TEXT NOT NULL,
	amount     TEXT NOT NULL DEFAULT '',
	currency   TEXT NOT NULL DEFAULT '',
	parsed     INTEGER NOT NULL,
	raw        TEXT NOT NULL,
	body       TEXT NOT NULL,
	source     TEXT NOT NULL,
	checked_at INTEGER NOT NULL
) STRICT;
CREATE INDEX balances_sim ON balances(iccid, checked_at);

CREATE TABLE ussd_dialects (
	model_firmware TEXT PRIMARY KEY,
	dialect        TEXT NOT NULL,
	learned_at     INTEGER NOT NULL
) STRICT;
`
