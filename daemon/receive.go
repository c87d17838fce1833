package daemon

import (
	"context"

	"github.com/gsmbridge/gsmbridge/gsm"
)

// setupReceive has the modem hand over incoming SMS and status reports
// (see gsm.Modem.SetupReceive), with the modem's receive counters made to
// exist from now on.
func (o *owner) setupReceive(ctx context.Context) (gsm.ReceiveSetup, error) {
	o.d.inbound.Watch(o.snapshot().ID)
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
	src := o.source()
	t, err := o.d.inbound.Take(ctx, src, pdu)
	if err == nil && t.Undecodable != nil {
		if pdu, err = mem.Read(ctx, idx); err != nil || pdu == "" {
			return err
		}
		if t, err = o.d.inbound.Take(ctx, src, pdu); err == nil && t.Undecodable != nil {
			o.d.inbound.Left(ctx, src, gsm.Slot{Index: idx}, pdu, t.Undecodable)
			return nil
		}
		if err == nil {
			o.log.Info("a stored PDU that read garbled read well the second time", "index", idx)
		}
	}
	o.received(t)
	if err != nil || !t.Handled() {
		return err
	}
	return mem.Delete(ctx, idx)
}

// source is where the owner's PDUs come from now.
func (o *owner) source() Source {
	st := o.snapshot()
	return Source{Modem: st.ID, ICCID: st.ICCID, Log: o.log}
}

// retryUnstored stores what the store refused before.
func (o *owner) retryUnstored(ctx context.Context) {
	if n := o.d.inbound.RetryUnstored(ctx, o.source()); n > 0 {
		o.update(func(s *ModemStatus) { s.Received += uint64(n) })
	}
}

// received counts a received SMS the store took.
func (o *owner) received(t Taken) {
	if t.Message {
		o.update(func(s *ModemStatus) { s.Received++ })
	}
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
		src := o.source()
		t, err := o.d.inbound.Take(ctx, src, e.PDU)
		switch {
		case err != nil:
			// Acknowledged: the network will not send it again.
			o.d.inbound.Keep(src, e.PDU, err)
		case t.Undecodable != nil:
			o.log.Warn("dropped an undecodable PDU the modem delivered directly", "err", t.Undecodable)
		}
		o.received(t)
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
