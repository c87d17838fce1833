package store

// schemaConfirmations: payment confirmations (the SMS-reply flow).
//
// amount is in kopecks. cancel_words is the JSON list of words that cancel,
// fixed when the confirmation is created: the SMS the customer reads was
// written with them. request is the normalised request, compared when the
// payment core repeats an id. iccid is the SIM the SMS goes (or went) out
// through; replies are matched on it.
const schemaConfirmations = `
CREATE TABLE confirmations (
	id                TEXT PRIMARY KEY,
	phone             TEXT NOT NULL,
	txn               TEXT NOT NULL,
	amount            INTEGER NOT NULL,
	currency          TEXT NOT NULL,
	customer_operator TEXT NOT NULL DEFAULT '',
	body              TEXT NOT NULL,
	cancel_words      TEXT NOT NULL,
	request           TEXT NOT NULL,
	state             TEXT NOT NULL,
	version           INTEGER NOT NULL DEFAULT 1,
	reason            TEXT NOT NULL DEFAULT '',
	message_id        TEXT NOT NULL DEFAULT '',
	iccid             TEXT NOT NULL DEFAULT '',
	reply_inbox_id    INTEGER NOT NULL DEFAULT 0,
	reply_parts_key   TEXT NOT NULL DEFAULT '',
	parts             INTEGER NOT NULL,
	created_at        INTEGER NOT NULL,
	expires_at        INTEGER NOT NULL,
	sent_at           INTEGER NOT NULL DEFAULT 0,
	final_at          INTEGER NOT NULL DEFAULT 0,
	updated_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX confirmations_phone ON confirmations(phone, state);
CREATE INDEX confirmations_state ON confirmations(state, expires_at);
CREATE INDEX confirmations_message ON confirmations(message_id);
CREATE INDEX confirmations_reply_parts ON confirmations(reply_parts_key) WHERE reply_parts_key<>'';
`
