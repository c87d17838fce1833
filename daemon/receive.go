package daemon

import (
	"context"
	"fmt"

	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

// setupReceive has the modem hand over incoming SMS and status reports
// (see gsm.Modem.SetupReceive), with the modem's receive counters made to
// exist from now on.
func (o *owner) setupReceive(ctx context.Context) (gsm.ReceiveSetup, error) {
	o.d.metrics.receiving(o.snapshot().ID)
	return o.modem.SetupReceive(ctx)
}

// sweep takes everything in the modem's storage: messages that arrived
// while nobody listened, or whose indication was lost; and the status
// reports of a modem that keeps them apart.
func (o *owner) sweep(ctx context.Context, rs *gsm.ReceiveSetup) error {
	mem := o.modem.Memory(*rs)
	err := mem.Stored(ctx, func(p gsm.StoredPDU) error { return o.takeStored(ctx, mem, p.Slot.Index, p.PDU) })
	if err != nil {
		return err
	}
	return o.refreshStorage(ctx, mem)
}

func (o *owner) refreshStorage(ctx context.Context, mem gsm.Memory) error {
	use, err := mem.Use(ctx)
	if err != nil || !use.Known {
		return err
	}
	o.update(func(s *ModemStatus) { s.StorageUsed, s.StorageTotal = use.Used, use.Total })
	return nil
}

// readStored handles a +CMTI or +CDSI: read the slot, store, then delete.
// The slot's memory is selected already.
func (o *owner) readStored(ctx context.Context, mem gsm.Memory, idx int) error {
	pdu, err := mem.Read(ctx, idx)
	if err != nil || pdu == "" {
		return err
	}
	return o.takeStored(ctx, mem, idx, pdu)
}

// takeStored stores one PDU from the modem's storage durably and only then
// deletes it there. A PDU that cannot be decoded is read again at once: a
// status line or line noise may have garbled it on the way, and the next
// sweep comes minutes later, too late for a payment reply. One that still
// cannot be decoded is left in place rather than lost, and reported.
func (o *owner) takeStored(ctx context.Context, mem gsm.Memory, idx int, pdu string) error {
	if pdu == "" {
		return nil
	}
	v, err := sms.DecodeAny(pdu)
	if err != nil {
		if pdu, err = mem.Read(ctx, idx); err != nil || pdu == "" {
			return err
		}
		if v, err = sms.DecodeAny(pdu); err != nil {
			o.leaveUndecodable(ctx, idx, pdu, err)
			return nil
		}
		o.log.Info("a stored PDU that read garbled read well the second time", "index", idx)
	}
	st := o.snapshot()
	handled, err := o.handleDecoded(ctx, v, st.ICCID, st.ID)
	if err != nil {
		return err
	}
	if !handled {
		return nil
	}
	return mem.Delete(ctx, idx)
}

// handlePDUFrom stores a directly delivered SMS or applies a status report
// that arrived through SIM iccid in modem modemID, which may no longer be
// the ones in the slot. handled is false for PDUs gsmbridge does not take.
func (o *owner) handlePDUFrom(ctx context.Context, pdu, iccid, modemID string) (handled bool, err error) {
	v, err := sms.DecodeAny(pdu)
	if err != nil {
		o.log.Warn("dropped an undecodable PDU the modem delivered directly", "err", err)
		return false, nil
	}
	return o.handleDecoded(ctx, v, iccid, modemID)
}

// handleDecoded stores a received SMS or applies a status report. handled is
// false for what gsmbridge does not take (a SUBMIT someone left in storage).
func (o *owner) handleDecoded(ctx context.Context, v any, iccid, modemID string) (handled bool, err error) {
	switch x := v.(type) {
	case *sms.Deliver:
		r := store.Received{ICCID: iccid, ModemID: modemID, Sender: x.From, Text: x.Text, Encoding: string(x.Encoding),
			Plain: x.PlainText, SCTS: x.SCTS}
		if x.Concat != nil {
			r.ConcatKey, r.Seq, r.Total = sms.ConcatKey(x), x.Concat.Seq, x.Concat.Total
		}
		if _, err := o.d.store.StoreReceived(context.WithoutCancel(ctx), r); err != nil {
			return false, fmt.Errorf("store received SMS: %w", err)
		}
		o.update(func(s *ModemStatus) { s.Received++ })
		return true, nil
	case *sms.StatusReport:
		return true, o.d.recordReport(ctx, iccid, x)
	}
	return false, nil
}

func (d *Daemon) recordReport(ctx context.Context, iccid string, r *sms.StatusReport) error {
	outcome := store.ReportDelivered
	switch r.Outcome() {
	case sms.Pending:
		outcome = store.ReportPending
	case sms.Failed:
		outcome = store.ReportFailed
	}
	recipient := r.Recipient
	if n, err := sms.Normalize(recipient); err == nil {
		recipient = n
	}
	_, err := d.store.RecordStatusReport(context.WithoutCancel(ctx), store.StatusReport{ICCID: iccid, MR: int(r.MR),
		Recipient: recipient, Status: int(r.Status), Outcome: outcome, Meaning: r.Meaning(), SCTS: r.SCTS, Discharge: r.Discharge})
	return err
}

// indication handles one unsolicited line from the modem. It returns an
// error only when the session must start over.
func (o *owner) indication(ctx context.Context, rs *gsm.ReceiveSetup, ev gsm.Event) error {
	switch e := ev.(type) {
	case gsm.Unreadable:
		o.log.Warn("unreadable indication", "name", e.Name, "err", e.Err)
	case gsm.NewStored:
		mem := o.modem.Memory(*rs)
		err := mem.In(ctx, e.Slot.Mem, func() error { return o.readStored(ctx, mem, e.Slot.Index) })
		if err != nil {
			o.log.Warn("reading a new message failed; the next sweep takes it", "err", err)
		}
	case gsm.Delivered:
		// Acknowledge first, within the modem's window, keeping the PDU in
		// memory until it is stored; settings the modem turned out to have
		// lost are applied again once it is.
		var reapply bool
		if rs.NeedsAck {
			reapply, _ = o.modem.Ack(ctx)
		}
		st := o.snapshot()
		if _, err := o.handlePDUFrom(ctx, e.PDU, st.ICCID, st.ID); err != nil {
			// Acknowledged: the network will not send it again.
			if !o.unstored.add(unstoredPDU{pdu: e.PDU, iccid: st.ICCID, modemID: st.ID}) {
				o.log.Error("could not store a directly delivered SMS, and too many wait in memory already: it is lost", "err", err)
			} else {
				o.log.Error("could not store a directly delivered SMS; kept in memory and retried", "err", err, "waiting", o.unstored.len())
			}
		}
		if reapply {
			return o.reapplyIndications(ctx, rs)
		}
	case gsm.StorageFull:
		if err := o.sweep(ctx, rs); err != nil {
			o.log.Warn("emptying full storage", "err", err)
		}
	}
	return nil
}

func (o *owner) reapplyIndications(ctx context.Context, rs *gsm.ReceiveSetup) error {
	n, err := o.setupReceive(ctx)
	if err != nil {
		return err
	}
	*rs = n
	return nil
}

// unstoredPDUs are PDUs a modem handed over directly (+CMT, +CDS) and that
// were acknowledged, but that the store refused: the network will not send
// them again, so the owner keeps them and retries until they are stored.
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

// retryUnstored stores what the store refused before.
func (o *owner) retryUnstored(ctx context.Context) {
	if o.unstored.len() == 0 {
		return
	}
	err := o.unstored.retry(func(u unstoredPDU) error {
		_, err := o.handlePDUFrom(ctx, u.pdu, u.iccid, u.modemID)
		return err
	})
	if err != nil {
		o.log.Error("directly delivered SMS still not stored", "err", err, "waiting", o.unstored.len())
		return
	}
	o.log.Info("directly delivered SMS stored at last")
}
