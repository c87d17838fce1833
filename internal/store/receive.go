package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ReportOutcome is what a status report says about a part.
type ReportOutcome int

const (
	ReportDelivered ReportOutcome = iota
	ReportPending
	ReportFailed
)

// StatusReport is a delivery report read from a modem.
type StatusReport struct {
	ICCID     string
	MR        int
	Recipient string // normalised
	Status    int
	Outcome   ReportOutcome
	Meaning   string
	SCTS      time.Time
	Discharge time.Time
}

// reportMatchWindow bounds how far back a report may match a part: message
// references are one byte and wrap after 256 sends, so an old part must not
// take a new part's report.
const reportMatchWindow = 72 * time.Hour

// RecordStatusReport stores a report once (a re-read report is a no-op) and
// applies it to the newest matching part: same SIM, same message reference,
// same recipient, sent within the match window. It returns the message it
// changed, or nil when the report matched nothing or changed nothing.
// reportPartQuery finds the part a status report is about: the newest one
// sent through the SIM with the report's reference to its recipient. "mr
// >= 0" lets it use parts_report, which holds only parts that got one.
const reportPartQuery = `SELECT p.message_id, p.seq FROM message_parts p JOIN messages m ON m.id = p.message_id
	WHERE p.iccid=? AND p.mr=? AND p.mr >= 0 AND m.to_number=? AND p.sent_at>=? AND p.state IN ('sent','unknown','delivered','undelivered')
	ORDER BY p.sent_at DESC LIMIT 1`

func (in Inbox) RecordStatusReport(ctx context.Context, r StatusReport) (*Message, error) {
	s := in.s
	var changed *Message
	err := s.Write(ctx, func(t *Tx) error {
		dedup := strings.Join([]string{r.ICCID, fmt.Sprint(r.MR), r.Recipient, fmt.Sprint(ms(r.SCTS)),
			fmt.Sprint(ms(r.Discharge)), fmt.Sprint(r.Status)}, "|")
		res, err := t.exec(`INSERT INTO status_reports (iccid, mr, recipient, status, scts, discharge, received_at, dedup)
			VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(dedup) DO NOTHING`,
			r.ICCID, r.MR, r.Recipient, r.Status, ms(r.SCTS), ms(r.Discharge), ms(t.now), dedup)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		reportID, _ := res.LastInsertId()
		var id string
		var seq int
		err = t.queryRow(reportPartQuery, r.ICCID, r.MR, r.Recipient, ms(t.now.Add(-reportMatchWindow))).Scan(&id, &seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // kept in status_reports, visible as unmatched
		}
		if err != nil {
			return err
		}
		if _, err := t.exec("UPDATE status_reports SET message_id=?, part=? WHERE id=?", id, seq, reportID); err != nil {
			return err
		}
		if r.Outcome == ReportPending {
			_, err := t.exec("UPDATE message_parts SET report_at=?, report_status=? WHERE message_id=? AND seq=?", ms(t.now), r.Status, id, seq)
			return err
		}
		partState := "delivered"
		if r.Outcome == ReportFailed {
			partState = "undelivered"
		}
		if _, err := t.exec("UPDATE message_parts SET state=?, report_at=?, report_status=? WHERE message_id=? AND seq=?",
			partState, ms(t.now), r.Status, id, seq); err != nil {
			return err
		}
		m, err := getMessage(t, id)
		if err != nil {
			return err
		}
		if m.State.Final() {
			return nil
		}
		delivered := 0
		for _, p := range m.PartList {
			if p.State == "delivered" {
				delivered++
			}
		}
		switch {
		case partState == "undelivered":
			changed, err = transitionMessage(t, id, Undelivered, func(m *Message) {
				m.Error = &ErrorInfo{Code: fmt.Sprintf("report %#02x", r.Status), Message: r.Meaning}
			})
		case delivered == len(m.PartList) && (m.State == Sent || m.State == Unknown):
			changed, err = transitionMessage(t, id, Delivered, nil)
		}
		return err
	})
	return changed, err
}

// UnmatchedReports counts status reports that matched no part.
func (in Inbox) UnmatchedReports(ctx context.Context) (int, error) {
	s := in.s
	var n int
	err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM status_reports WHERE message_id=''").Scan(&n)
	return n, err
}

// Received is one SMS-DELIVER read from a modem.
type Received struct {
	ICCID, ModemID string
	Sender         string
	Text           string
	Encoding       string
	Plain          bool
	SCTS           time.Time
	// Concatenation; ConcatKey is "" for single-part messages.
	ConcatKey  string
	Seq, Total int
}

// InboxMessage is a received SMS as stored and shown by the API.
type InboxMessage struct {
	ID         int64
	ICCID      string
	ModemID    string
	Sender     string
	Text       string
	Blanked    bool
	Encoding   string
	Plain      bool
	Complete   bool
	Parts      int
	SCTS       time.Time
	ReceivedAt time.Time
}

func dedupKey(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// StoreReceived stores a received SMS durably and exactly once: the same PDU
// read twice (a re-sweep, a modem that did not delete) changes nothing. A
// part of a long message waits in inbox_parts until its siblings arrive; the
// complete message is returned when this part completed it, else nil.
// Once StoreReceived returns, the caller may delete the PDU from the modem.
func (in Inbox) StoreReceived(ctx context.Context, r Received) (*InboxMessage, error) {
	s := in.s
	var out *InboxMessage
	err := s.Write(ctx, func(t *Tx) error {
		seenKey := func(sim string) string {
			return dedupKey(sim, r.Sender, r.ConcatKey, fmt.Sprint(r.Seq), fmt.Sprint(ms(r.SCTS)), r.Text)
		}
		key := seenKey(r.ICCID)
		res, err := t.exec("INSERT INTO inbox_seen (key, created_at) VALUES (?, ?) ON CONFLICT(key) DO NOTHING", key, ms(t.now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // read before: stored already
		}
		// Or read before the SIM's ICCID could be read (simkey.go).
		alias, err := simAliasKey(t, r.ICCID)
		if err != nil {
			return err
		}
		if alias != "" {
			if _, seen, err := remembered(t, seenKey(alias)); err != nil || seen {
				return err
			}
		}
		if r.ConcatKey == "" {
			out, err = insertInbox(t, r, r.Text, true, 1, key, "", true)
			return err
		}
		ck := r.ConcatKey + "|" + r.ICCID
		// A part a group holds already (sent again by the network with
		// another timestamp) has had its say.
		gk, dup, err := partGroup(t, ck, r)
		if err != nil || dup {
			return err
		}
		if _, err = t.exec(`INSERT INTO inbox_parts (concat_key, seq, total, iccid, modem_id, sender, body, encoding, plain, scts, received_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)`, gk, r.Seq, r.Total, r.ICCID, r.ModemID, r.Sender, r.Text, r.Encoding,
			boolInt(r.Plain), ms(r.SCTS), ms(t.now)); err != nil {
			return err
		}
		again, err := assembledLately(t, ck, r.Seq, r.Text)
		if err != nil {
			return err
		}
		late, err := lateForFlushed(t, ck, r.Seq)
		if err != nil {
			return err
		}
		if !again && !late {
			if err := confirmationOnFirstPart(t, r, gk); err != nil {
				return err
			}
		}
		var have int
		if err := t.queryRow("SELECT COUNT(*) FROM inbox_parts WHERE concat_key=?", gk).Scan(&have); err != nil {
			return err
		}
		if have < r.Total {
			return nil
		}
		out, err = assembleParts(t, gk, true)
		return err
	})
	return out, err
}

// FlushIncomplete stores, marked incomplete, every long message whose first
// part arrived before olderThan and whose other parts never came.
func (in Inbox) FlushIncomplete(ctx context.Context, olderThan time.Time) ([]*InboxMessage, error) {
	s := in.s
	var out []*InboxMessage
	err := s.Write(ctx, func(t *Tx) error {
		rows, err := t.query("SELECT concat_key FROM inbox_parts GROUP BY concat_key HAVING MIN(received_at) < ?", ms(olderThan))
		if err != nil {
			return err
		}
		var keys []string
		for rows.Next() {
			var k string
			rows.Scan(&k)
			keys = append(keys, k)
		}
		rows.Close()
		for _, k := range keys {
			if stale, err := onlyAssembledParts(t, k); err != nil || stale {
				if err != nil {
					return err
				}
				if _, err := t.exec("DELETE FROM inbox_parts WHERE concat_key=?", k); err != nil {
					return err
				}
				continue
			}
			m, err := assembleParts(t, k, false)
			if err != nil {
				return err
			}
			if m != nil {
				out = append(out, m)
			}
		}
		return nil
	})
	return out, err
}

// gapMarker stands where a missing part of an incomplete message would be.
const gapMarker = "[…]"

// assembleParts stores the parts of the group gk as one message and
// remembers them under their concatenation key.
func assembleParts(t *Tx, gk string, complete bool) (*InboxMessage, error) {
	ck := baseKey(gk)
	rows, err := t.query("SELECT seq, total, iccid, modem_id, sender, body, encoding, plain, scts FROM inbox_parts WHERE concat_key=? ORDER BY seq", gk)
	if err != nil {
		return nil, err
	}
	var r Received
	var b strings.Builder
	next, plain := 1, true
	first := ""
	var seen []string // assembled keys of the parts
	// A message made only of parts that a message stored lately had or
	// lacked is the rest of a reply that has had its say.
	decides := false
	for rows.Next() {
		var seq, total, pl int
		var body, enc string
		var scts int64
		if err := rows.Scan(&seq, &total, &r.ICCID, &r.ModemID, &r.Sender, &body, &enc, &pl, &scts); err != nil {
			rows.Close()
			return nil, err
		}
		if next == 1 || seq == 1 {
			r.SCTS, r.Encoding, r.Total = fromMS(scts), enc, total
		}
		for ; next < seq; next++ {
			b.WriteString(gapMarker)
			seen = append(seen, missingKey(ck, next))
		}
		b.WriteString(body)
		seen = append(seen, assembledKey(ck, seq, body))
		if !decides {
			again, err := assembledLately(t, ck, seq, body)
			if err != nil {
				rows.Close()
				return nil, err
			}
			late, err := lateForFlushed(t, ck, seq)
			if err != nil {
				rows.Close()
				return nil, err
			}
			decides = !again && !late
		}
		next = seq + 1
		plain = plain && pl != 0
		if first == "" {
			first = fmt.Sprintf("%s|%d|%d", gk, seq, scts)
		}
	}
	rows.Close()
	for ; next <= r.Total; next++ {
		b.WriteString(gapMarker)
		seen = append(seen, missingKey(ck, next))
	}
	r.Plain = plain
	m, err := insertInbox(t, r, b.String(), complete, r.Total, dedupKey("concat", first), gk, decides)
	if err != nil {
		return nil, err
	}
	// Remembered for an incomplete message too: its parts may come again,
	// and the parts it lacked may still come, both after it was stored.
	for _, key := range seen {
		if _, err := t.exec(`INSERT INTO inbox_seen (key, created_at) VALUES (?, ?)
			ON CONFLICT(key) DO UPDATE SET created_at=excluded.created_at`, key, ms(t.now)); err != nil {
			return nil, err
		}
	}
	_, err = t.exec("DELETE FROM inbox_parts WHERE concat_key=?", gk)
	return m, err
}

// insertInbox stores a whole message; partsKey names the parts it was
// assembled from, "" for a single SMS. decides is false for a message that
// may answer no payment.
func insertInbox(t *Tx, r Received, text string, complete bool, parts int, dedup, partsKey string, decides bool) (*InboxMessage, error) {
	res, err := t.exec(`INSERT INTO inbox (iccid, modem_id, sender, body, encoding, plain, complete, parts, scts, received_at, dedup)
		VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(dedup) DO NOTHING`,
		r.ICCID, r.ModemID, r.Sender, text, r.Encoding, boolInt(r.Plain), boolInt(complete), parts, ms(r.SCTS), ms(t.now), dedup)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, nil
	}
	id, _ := res.LastInsertId()
	m := &InboxMessage{ID: id, ICCID: r.ICCID, ModemID: r.ModemID, Sender: r.Sender, Text: text, Encoding: r.Encoding,
		Plain: r.Plain, Complete: complete, Parts: parts, SCTS: r.SCTS, ReceivedAt: t.now}
	if _, err := t.exec("UPDATE sims SET last_received_at=? WHERE iccid=?", ms(t.now), r.ICCID); err != nil {
		return nil, err
	}
	if err := appendEvent(t, "sms.received", "sms", fmt.Sprint(id), 1, InboxView(m)); err != nil {
		return nil, err
	}
	return m, confirmationOnReceived(t, m, partsKey, decides)
}
