package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// What the store remembers of the parts of long messages it stored, so that
// a part the network brings after its message neither decides a payment
// nor becomes a message of its own.

// assembledMemory is how long the parts of an assembled message are
// remembered: the network sends a part again, newly stamped, within minutes
// when it missed the acknowledgement.
const assembledMemory = time.Hour

func assembledKey(ck string, seq int, text string) string {
	return dedupKey("assembled", ck, fmt.Sprint(seq), text)
}

// assembledLately reports whether this part belonged to a message assembled
// within assembledMemory. Such a part, sent again after its message was
// put together, decides no payment and is not flushed as a message of its
// own; an automated sender's identical part in a new message that
// completes is still a new message.
func assembledLately(t *Tx, ck string, seq int, text string) (bool, error) {
	return rememberedLately(t, ck, func(ck string) string { return assembledKey(ck, seq, text) })
}

// rememberedLately reports whether the key that of makes of ck was
// remembered within assembledMemory, or the one it makes of ck as it was
// while the SIM was known by its IMSI only (simkey.go).
func rememberedLately(t *Tx, ck string, of func(ck string) string) (bool, error) {
	cks := []string{ck}
	if i := strings.LastIndex(ck, "|"); i >= 0 {
		alias, err := simAliasKey(t, ck[i+1:])
		if err != nil {
			return false, err
		}
		if alias != "" {
			cks = append(cks, ck[:i+1]+alias)
		}
	}
	for _, k := range cks {
		at, ok, err := remembered(t, of(k))
		if err != nil {
			return false, err
		}
		if ok && t.now.Sub(at) < assembledMemory {
			return true, nil
		}
	}
	return false, nil
}

// remembered returns when inbox_seen last remembered key, if it does.
func remembered(t *Tx, key string) (time.Time, bool, error) {
	var at int64
	err := t.queryRow("SELECT created_at FROM inbox_seen WHERE key=?", key).Scan(&at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, err
	}
	return fromMS(at), true, nil
}

// onlyAssembledParts reports whether every part left in the group gk
// belonged to a message assembled lately: parts the network sent again,
// not a message.
func onlyAssembledParts(t *Tx, gk string) (bool, error) {
	ck := baseKey(gk)
	rows, err := t.query("SELECT seq, body FROM inbox_parts WHERE concat_key=?", gk)
	if err != nil {
		return false, err
	}
	type part struct {
		seq  int
		body string
	}
	var parts []part
	for rows.Next() {
		var p part
		if err := rows.Scan(&p.seq, &p.body); err != nil {
			rows.Close()
			return false, err
		}
		parts = append(parts, p)
	}
	rows.Close()
	for _, p := range parts {
		again, err := assembledLately(t, ck, p.seq, p.body)
		if err != nil || !again {
			return false, err
		}
	}
	return len(parts) > 0, nil
}

// missingKey marks a part that a message stored incomplete lacked.
func missingKey(ck string, seq int) string {
	return dedupKey("missing", ck, fmt.Sprint(seq))
}

// lateForFlushed reports whether part seq is one that a message stored
// incomplete within assembledMemory lacked: the rest of a reply that had its
// say through that message (its first part decided, or the message did), so
// it must not answer the payment sent through the SIM since.
func lateForFlushed(t *Tx, ck string, seq int) (bool, error) {
	return rememberedLately(t, ck, func(ck string) string { return missingKey(ck, seq) })
}
