package receiving

import "context"

// Keep holds an acknowledged direct delivery (+CMT, +CDS) the store
// refused: the network will not send it again, so it waits in memory for
// RetryUnstored.
func (r *Receiving) Keep(src Source, pdu string, cause error) {
	u, log := &r.of(src.Modem).unstored, r.logOf(src)
	if !u.add(unstoredPDU{pdu: pdu, iccid: src.ICCID, modemID: src.Modem}) {
		log.Error("could not store a directly delivered SMS, and too many wait in memory already: it is lost", "err", cause)
	} else {
		log.Error("could not store a directly delivered SMS; kept in memory and retried", "err", cause, "waiting", u.len())
	}
}

// RetryUnstored stores what Keep holds for src's modem, in arrival order,
// stopping at the first the store still refuses, and says how many
// received messages it stored.
func (r *Receiving) RetryUnstored(ctx context.Context, src Source) (received int) {
	u, log := &r.of(src.Modem).unstored, r.logOf(src)
	if u.len() == 0 {
		return 0
	}
	err := u.retry(func(p unstoredPDU) error {
		t, err := r.Take(ctx, Source{Modem: p.modemID, ICCID: p.iccid, Log: src.Log}, p.pdu)
		if t.Undecodable != nil {
			log.Warn("dropped an undecodable PDU the modem delivered directly", "err", t.Undecodable)
		}
		if t.Message {
			received++
		}
		return err
	})
	if err != nil {
		log.Error("directly delivered SMS still not stored", "err", err, "waiting", u.len())
		return received
	}
	log.Info("directly delivered SMS stored at last")
	return received
}

// unstoredPDUs are PDUs a modem handed over directly (+CMT, +CDS) and that
// were acknowledged, but that the store refused: the network will not send
// them again, so receiving keeps them and retries until they are stored.
type unstoredPDUs struct{ pdus []unstoredPDU }

// unstoredPDU remembers the SIM a PDU came through: by the retry another
// SIM may be in the slot.
type unstoredPDU struct{ pdu, iccid, modemID string }

// maxUnstored bounds the memory a store that stays broken can take.
const maxUnstored = 1000

// add keeps pdu; false when too many wait already.
func (u *unstoredPDUs) add(pdu unstoredPDU) bool {
	if len(u.pdus) >= maxUnstored {
		return false
	}
	u.pdus = append(u.pdus, pdu)
	return true
}

func (u *unstoredPDUs) len() int { return len(u.pdus) }

// retry hands the PDUs to store in arrival order, stopping at the first
// that fails (the store is likely still broken), and keeps the rest.
func (u *unstoredPDUs) retry(store func(pdu unstoredPDU) error) error {
	for len(u.pdus) > 0 {
		if err := store(u.pdus[0]); err != nil {
			return err
		}
		u.pdus[0] = unstoredPDU{}
		u.pdus = u.pdus[1:]
	}
	u.pdus = nil
	return nil
}
