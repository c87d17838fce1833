package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Modem is a modem as remembered across replugs: its id stays with it
// whatever tty it comes back on.
type Modem struct {
	ID           string
	IMEI         string
	USBPath      string
	Port         string
	Name         string
	Manufacturer string
	Model        string
	Revision     string
	ICCID        string
	FirstSeen    time.Time
	LastSeen     time.Time
}

// SIM is a SIM card by ICCID, wherever it is plugged.
type SIM struct {
	// ICCID is the SIM's key: its ICCID, or "imsi:<IMSI>" when the modem
	// cannot read the ICCID (IDSource says which).
	ICCID          string
	IDSource       string
	IMSI           string
	MSISDN         string
	PLMN           string
	SMSC           string
	ModemID        string
	State          string
	StateReason    string
	StateSince     time.Time
	FailStreak     int
	Seq            int
	ReceiveStalled bool
	failRecipients string
	LastSentAt     time.Time
	LastReceivedAt time.Time
	FirstSeen      time.Time
	LastSeen       time.Time
}

// Devices are the modems and SIMs the daemon has seen: identities, swaps,
// send outcomes and suspicion, receive stalls and sent counts.
type Devices struct{ s *Store }

// SaveModem inserts or updates a modem record, keeping its first_seen. The
// SIM a known modem holds changes only through SaveSIM, which tells a swap.
func (dv Devices) SaveModem(ctx context.Context, m Modem) (Modem, error) {
	s := dv.s
	err := s.Write(ctx, func(t *Tx) error {
		now := ms(t.now)
		_, err := t.exec(`INSERT INTO modems (id, imei, usb_path, port, name, manufacturer, model, revision, iccid, first_seen, last_seen)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT(id) DO UPDATE SET imei=excluded.imei, usb_path=excluded.usb_path, port=excluded.port,
			name=excluded.name, manufacturer=excluded.manufacturer, model=excluded.model, revision=excluded.revision,
			last_seen=excluded.last_seen`,
			m.ID, m.IMEI, m.USBPath, m.Port, m.Name, m.Manufacturer, m.Model, m.Revision, m.ICCID, now, now)
		if err != nil {
			return err
		}
		var first int64
		if err := t.queryRow("SELECT first_seen FROM modems WHERE id=?", m.ID).Scan(&first); err != nil {
			return err
		}
		m.FirstSeen, m.LastSeen = fromMS(first), t.now
		return nil
	})
	return m, err
}

// FindModemByIMEI returns the remembered modem with that IMEI.
func (dv Devices) FindModemByIMEI(ctx context.Context, imei string) (Modem, error) {
	s := dv.s
	var m Modem
	var first, last int64
	err := s.rdb.QueryRowContext(ctx, `SELECT id, imei, usb_path, port, name, manufacturer, model, revision, iccid, first_seen, last_seen
		FROM modems WHERE imei=? ORDER BY last_seen DESC LIMIT 1`, imei).Scan(&m.ID, &m.IMEI, &m.USBPath, &m.Port, &m.Name,
		&m.Manufacturer, &m.Model, &m.Revision, &m.ICCID, &first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	m.FirstSeen, m.LastSeen = fromMS(first), fromMS(last)
	return m, err
}

// SaveSIM records a SIM seen in a modem; saved.ICCID is the key it is kept
// under (see simkey.go). When the modem held another SIM before, it appends
// a sim.changed event; previousInModem names that SIM. A SIM known until
// now by its IMSI key and now read with its ICCID moves to the ICCID with
// all its history, and a sim.identified event says so, in the same
// transaction.
func (dv Devices) SaveSIM(ctx context.Context, sim SIM) (saved SIM, previousInModem string, err error) {
	s := dv.s
	err = s.Write(ctx, func(t *Tx) error {
		now := ms(t.now)
		identified := false
		switch {
		case IsIMSIKey(sim.ICCID):
			known, err := knownICCIDOf(t, sim.IMSI)
			if err != nil {
				return err
			}
			if known != "" {
				sim.ICCID = known
			}
		case sim.IMSI != "":
			moved, err := rekeySIM(t, IMSIKey(sim.IMSI), sim.ICCID)
			if err != nil {
				return err
			}
			identified = moved
		}
		err := t.queryRow("SELECT iccid FROM modems WHERE id=?", sim.ModemID).Scan(&previousInModem)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = t.exec(`INSERT INTO sims (iccid, imsi, msisdn, plmn, smsc, modem_id, first_seen, last_seen)
			VALUES (?,?,?,?,?,?,?,?)
			ON CONFLICT(iccid) DO UPDATE SET imsi=excluded.imsi,
			msisdn=CASE WHEN excluded.msisdn != '' THEN excluded.msisdn ELSE sims.msisdn END,
			plmn=excluded.plmn,
			smsc=CASE WHEN excluded.smsc != '' THEN excluded.smsc ELSE sims.smsc END,
			modem_id=excluded.modem_id, last_seen=excluded.last_seen`,
			sim.ICCID, sim.IMSI, sim.MSISDN, sim.PLMN, sim.SMSC, sim.ModemID, now, now)
		if err != nil {
			return err
		}
		if sim.ModemID != "" {
			if _, err := t.exec("UPDATE modems SET iccid=? WHERE id=?", sim.ICCID, sim.ModemID); err != nil {
				return err
			}
		}
		if identified {
			if err := simEvent(t, sim.ICCID, "sim.identified", &saved); err != nil {
				return err
			}
		}
		if previousInModem != "" && previousInModem != sim.ICCID {
			// Announced in the same transaction, so nobody sees the new
			// SIM in the modem before the event that says so.
			return simEvent(t, sim.ICCID, "sim.changed", &saved)
		}
		if identified {
			return nil
		}
		saved, err = getSIM(t, sim.ICCID)
		return err
	})
	return saved, previousInModem, err
}

// GetSIM returns one SIM.
func (dv Devices) GetSIM(ctx context.Context, iccid string) (SIM, error) {
	s := dv.s
	return getSIM(s.reader(ctx), iccid)
}

// SIMs lists every SIM ever seen.
func (dv Devices) SIMs(ctx context.Context) ([]SIM, error) {
	s := dv.s
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+simColumns+" FROM sims ORDER BY iccid")
	return collect(rows, err, scanSIM)
}

const simColumns = `iccid, imsi, msisdn, plmn, smsc, modem_id, state, state_reason, state_since, fail_streak,
	fail_recipients, seq, receive_stalled, last_sent_at, last_received_at, first_seen, last_seen`

func scanSIM(r scanner) (SIM, error) {
	var s SIM
	var since, sent, recv, first, last int64
	err := r.Scan(&s.ICCID, &s.IMSI, &s.MSISDN, &s.PLMN, &s.SMSC, &s.ModemID, &s.State, &s.StateReason,
		&since, &s.FailStreak, &s.failRecipients, &s.Seq, &s.ReceiveStalled, &sent, &recv, &first, &last)
	s.StateSince, s.LastSentAt, s.LastReceivedAt = fromMS(since), fromMS(sent), fromMS(recv)
	s.FirstSeen, s.LastSeen = fromMS(first), fromMS(last)
	s.IDSource = IDSource(s.ICCID)
	return s, err
}

func getSIM(q querier, iccid string) (SIM, error) {
	s, err := scanSIM(q.QueryRow("SELECT "+simColumns+" FROM sims WHERE iccid=?", iccid))
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	return s, err
}

// SentSince counts the parts a SIM sent since t; the scheduler seeds its
// send-limit windows from it at start-up.
func (dv Devices) SentSince(ctx context.Context, iccid string, t time.Time) ([]time.Time, error) {
	s := dv.s
	rows, err := s.rdb.QueryContext(ctx, "SELECT sent_at FROM message_parts WHERE iccid=? AND sent_at>=? ORDER BY sent_at", iccid, ms(t))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, fromMS(v))
	}
	return out, rows.Err()
}

// ModemEvent appends an event about a modem (modem.up, modem.down) with the
// modem's current status as its payload, numbered per modem.
func (dv Devices) ModemEvent(ctx context.Context, id, typ string, status any) error {
	s := dv.s
	return s.Write(ctx, func(t *Tx) error {
		if _, err := t.exec("UPDATE modems SET seq=seq+1 WHERE id=?", id); err != nil {
			return err
		}
		var seq int
		if err := t.queryRow("SELECT seq FROM modems WHERE id=?", id).Scan(&seq); err != nil {
			return err
		}
		return appendEvent(t, typ, "modem", id, seq, status)
	})
}
