package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// A SIM is keyed by its ICCID wherever the store names it (sims.iccid and
// every iccid column that refers to it). A SIM whose modem will not give
// the ICCID (no AT+CRSM, AT+CCID or maker's command: neutral 27.007
// firmware) is keyed by "imsi:" and its IMSI instead. The prefix cannot
// collide with an ICCID, which is digits only, and needs no new column, so
// databases written before it work unchanged. Once the ICCID can be read,
// SaveSIM moves everything recorded under the IMSI key to it.

// imsiKeyPrefix starts the key of a SIM known by its IMSI only.
const imsiKeyPrefix = "imsi:"

// ID sources of a SIM key, as the API shows them.
const (
	IDSourceICCID = "iccid"
	IDSourceIMSI  = "imsi"
)

// IMSIKey is the key of a SIM whose ICCID cannot be read.
func IMSIKey(imsi string) string { return imsiKeyPrefix + imsi }

// IsIMSIKey reports whether key names a SIM by its IMSI.
func IsIMSIKey(key string) bool { return strings.HasPrefix(key, imsiKeyPrefix) }

// IDSource says what a SIM key was made from.
func IDSource(key string) string {
	if IsIMSIKey(key) {
		return IDSourceIMSI
	}
	return IDSourceICCID
}

// knownICCIDOf returns the ICCID under which the SIM with this IMSI was
// seen before, or "": a SIM read once with its ICCID stays under it when
// a modem later cannot read it, so its history does not split.
func knownICCIDOf(t *Tx, imsi string) (string, error) {
	var iccid string
	err := t.queryRow(`SELECT iccid FROM sims WHERE imsi=? AND iccid NOT LIKE 'imsi:%'
		ORDER BY last_seen DESC LIMIT 1`, imsi).Scan(&iccid)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	return iccid, nil
}

// rekeySIM moves every row that names the SIM from to the SIM to: sent
// history (send limits), balances, confirmations, received messages,
// suspect state. The tables are found by their iccid column, so a table
// added later moves too. Where to already has a row of its own (a table
// keyed by SIM), that row is kept and from's is dropped. It reports
// whether from existed.
func rekeySIM(t *Tx, from, to string) (bool, error) {
	var n int
	if err := t.queryRow("SELECT count(*) FROM sims WHERE iccid=?", from).Scan(&n); err != nil || n == 0 {
		return false, err
	}
	rows, err := t.query(`SELECT m.name FROM sqlite_schema m, pragma_table_info(m.name) p
		WHERE m.type='table' AND p.name='iccid' ORDER BY m.name`)
	if err != nil {
		return false, err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return false, err
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, table := range tables {
		q := `"` + strings.ReplaceAll(table, `"`, `""`) + `"`
		if _, err := t.exec("UPDATE OR IGNORE "+q+" SET iccid=? WHERE iccid=?", to, from); err != nil {
			return false, fmt.Errorf("move SIM rows of %s: %w", table, err)
		}
		if _, err := t.exec("DELETE FROM "+q+" WHERE iccid=?", from); err != nil {
			return false, fmt.Errorf("drop SIM rows of %s: %w", table, err)
		}
	}
	return true, rekeyReceiving(t, from, to)
}

// rekeyReceiving moves what ties received parts to the SIM's key, which is
// the last field of their concatenation key, from the IMSI key to the
// ICCID (rekeySIM moved the rows' iccid column already): the groups of
// waiting parts, and the payment their first part decided, so that a long
// message spanning the switch is still one message and that payment's
// reply. The fingerprints of what was stored (inbox_seen) are hashes; they
// are found under the IMSI key instead (simAliasKey).
func rekeyReceiving(t *Tx, from, to string) error {
	rows, err := t.query("SELECT DISTINCT concat_key FROM inbox_parts WHERE iccid=?", to)
	if err != nil {
		return err
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Every group under the ICCID is among keys: its parts' iccid is the
	// last field of its key.
	used := map[string]bool{}
	for _, k := range keys {
		used[k] = true
	}
	for _, k := range keys {
		base := baseKey(k)
		if !strings.HasSuffix(base, "|"+from) {
			continue
		}
		// Parts waiting under the ICCID already keep their group; these
		// form one of their own beside it.
		moved := freeGroupKey(strings.TrimSuffix(base, from)+to, func(k string) bool { return used[k] })
		used[moved] = true
		if _, err := t.exec("UPDATE inbox_parts SET concat_key=? WHERE concat_key=?", moved, k); err != nil {
			return fmt.Errorf("move waiting parts: %w", err)
		}
		if _, err := t.exec("UPDATE confirmations SET reply_parts_key=? WHERE reply_parts_key=?", moved, k); err != nil {
			return fmt.Errorf("move the parts key of a reply: %w", err)
		}
	}
	return nil
}

// simAliasKey is the other key the SIM keyed by iccid had: its IMSI key,
// under which what it received before its ICCID could be read was
// fingerprinted; "" when there is none.
func simAliasKey(t *Tx, iccid string) (string, error) {
	if iccid == "" || IsIMSIKey(iccid) {
		return "", nil
	}
	var imsi string
	err := t.queryRow("SELECT imsi FROM sims WHERE iccid=?", iccid).Scan(&imsi)
	if errors.Is(err, sql.ErrNoRows) || imsi == "" {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return IMSIKey(imsi), nil
}
