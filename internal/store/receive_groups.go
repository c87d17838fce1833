package store

import (
	"fmt"
	"strings"
	"time"
)

// Which waiting parts belong together. A concatenation key (sender,
// reference, total, SIM) does not name one message: references are one
// byte (or two) and repeat, and some senders use the same one for every
// long message. A part left waiting, whose siblings never came, would
// otherwise take the place of a new message's part with its sequence
// number, or complete it, and the stored text would mix two messages. So
// the parts waiting under one key form groups, one per message: a part
// joins the group whose parts the service centre stamped close to its own
// time and that lacks its sequence number; else it starts a group of its
// own, which is assembled or flushed like any other.
//
// The timestamp, not the newest part per sequence number, decides: a new
// message's last part may arrive first and must not complete the stale
// one, and a stale group's missing part, late, still finds its group.

// partsSpread bounds how far apart the service centre stamped the parts of
// one message. A handset submits them back to back, seconds apart; two
// minutes allow for a retransmitted submit. A genuine message spread wider
// is stored as two incomplete messages, marked so, rather than one text
// mixed from two.
const partsSpread = 2 * time.Minute

// groupSep starts the suffix of a group's key when another group waits
// under the same concatenation key already; the first group's key is the
// concatenation key itself, as before groups.
const groupSep = "|#"

// baseKey is the concatenation key of the group key gk. The SIM key, last
// in a concatenation key, holds no '|'.
func baseKey(gk string) string {
	if i := strings.LastIndex(gk, "|"); i >= 0 && strings.HasPrefix(gk[i:], groupSep) {
		return gk[:i]
	}
	return gk
}

// partGroup returns the key of the group that part r, under the
// concatenation key ck, joins; dup when a group holds this part already
// (read again, or sent again by the network newly stamped).
func partGroup(t *Tx, ck string, r Received) (gk string, dup bool, err error) {
	rows, err := t.query(`SELECT concat_key, seq, body, scts FROM inbox_parts
		WHERE concat_key=? OR (concat_key>? AND concat_key<?) ORDER BY received_at, concat_key`,
		ck, ck+groupSep, ck+"|$") // '$' follows '#'
	if err != nil {
		return "", false, err
	}
	type group struct {
		dist  int64 // ms from r's timestamp to the nearest of the group's
		taken bool  // the group has r's sequence number with another text
	}
	groups := map[string]*group{}
	var order []string
	scts := ms(r.SCTS)
	for rows.Next() {
		var k, body string
		var seq int
		var at int64
		if err := rows.Scan(&k, &seq, &body, &at); err != nil {
			rows.Close()
			return "", false, err
		}
		g := groups[k]
		if g == nil {
			g = &group{dist: -1}
			groups[k] = g
			order = append(order, k)
		}
		d := at - scts
		if d < 0 {
			d = -d
		}
		if seq == r.Seq {
			if body == r.Text && d < assembledMemory.Milliseconds() {
				gk, dup = k, true
			}
			g.taken = true
		}
		if g.dist < 0 || d < g.dist {
			g.dist = d
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || dup {
		return gk, dup, err
	}
	best := int64(-1)
	for _, k := range order { // oldest group first: on a tie the newest wins
		if g := groups[k]; !g.taken && g.dist <= partsSpread.Milliseconds() && (best < 0 || g.dist <= best) {
			gk, best = k, g.dist
		}
	}
	if gk != "" {
		return gk, false, nil
	}
	return freeGroupKey(ck, func(k string) bool { return groups[k] != nil }), false, nil
}

// freeGroupKey is the first key of a group under ck that used does not
// report taken.
func freeGroupKey(ck string, used func(string) bool) string {
	if !used(ck) {
		return ck
	}
	for n := 1; ; n++ {
		if k := ck + groupSep + fmt.Sprint(n); !used(k) {
			return k
		}
	}
}
