package modem

import (
	"context"
	"log/slog"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/gsm"
)

// reception takes what the modem of one session receives and hands it to
// Inbound. It runs on the owner's goroutine.
type reception struct {
	modem  *gsm.Modem
	in     Inbound
	status *modemStatus
	log    *slog.Logger
	rs     gsm.ReceiveSetup // how the modem hands messages over, once set up
	// unread: a message the modem announced could not be read, or a sweep
	// asked for failed, so a message may wait in storage; the owner sweeps
	// again soon rather than at the next poll, which may come after a
	// payment's deadline and its grace.
	unread bool
	now    func() time.Time
	// swept records a complete sweep that began at began and tells those
	// who wait for one.
	swept func(began time.Time)
}

func (o *owner) reception() *reception {
	return &reception{modem: o.modem, in: o.p.inbound, status: &o.modemStatus, log: o.log, now: o.p.now,
		swept: func(began time.Time) {
			o.sweeps.swept(o.snapshot().ICCID, began)
			o.p.swept()
		}}
}

// setup has the modem hand over incoming SMS and status reports (see
// gsm.Modem.SetupReceive), with the modem's receive counters made to exist
// from now on.
func (r *reception) setup(ctx context.Context) error {
	r.in.Watch(r.status.snapshot().ID)
	rs, err := r.modem.SetupReceive(ctx)
	if err != nil {
		return err
	}
	r.rs = rs
	return nil
}

// sweep takes everything in the modem's storage: messages that arrived
// while nobody listened, or whose indication was lost; and the status
// reports of a modem that keeps them apart.
//
// A sweep that lists everything counts from when it began: whatever the
// network handed the SIM before then is in the store now, or reported.
func (r *reception) sweep(ctx context.Context) error {
	began := r.now()
	mem := r.modem.Memory(r.rs)
	err := mem.Stored(ctx, func(p gsm.StoredPDU) error { return r.takeStored(ctx, mem, p.Slot.Index, p.PDU) })
	if err != nil {
		return err
	}
	r.unread = false
	r.swept(began)
	return r.refreshStorage(ctx, mem)
}

func (r *reception) refreshStorage(ctx context.Context, mem gsm.Memory) error {
	use, err := mem.Use(ctx)
	if err != nil || !use.Known {
		return err
	}
	r.status.update(func(s *api.Modem) { s.StorageUsed, s.StorageTotal = use.Used, use.Total })
	return nil
}

// readStored handles a +CMTI or +CDSI: read the slot, store, then delete.
// The slot's memory is selected already.
func (r *reception) readStored(ctx context.Context, mem gsm.Memory, idx int) error {
	pdu, err := mem.Read(ctx, idx)
	if err != nil || pdu == "" {
		return err
	}
	return r.takeStored(ctx, mem, idx, pdu)
}

// takeStored stores one PDU from the modem's storage durably and only then
// deletes it there. A PDU that cannot be decoded is read again at once: a
// status line or line noise may have garbled it on the way, and the next
// sweep comes minutes later, too late for a payment reply. One that still
// cannot be decoded is left in place rather than lost, and reported.
func (r *reception) takeStored(ctx context.Context, mem gsm.Memory, idx int, pdu string) error {
	if pdu == "" {
		return nil
	}
	src := r.source()
	t, err := r.in.Take(ctx, src, pdu)
	if err == nil && t.Undecodable != nil {
		if pdu, err = mem.Read(ctx, idx); err != nil || pdu == "" {
			return err
		}
		if t, err = r.in.Take(ctx, src, pdu); err == nil && t.Undecodable != nil {
			r.in.Left(ctx, src, gsm.Slot{Index: idx}, pdu, t.Undecodable)
			return nil
		}
		if err == nil {
			r.log.Info("a stored PDU that read garbled read well the second time", "index", idx)
		}
	}
	r.received(t)
	if err != nil || !t.Handled() {
		return err
	}
	return mem.Delete(ctx, idx)
}

// source is where the owner's PDUs come from now.
func (r *reception) source() Source {
	st := r.status.snapshot()
	return Source{Modem: st.ID, ICCID: st.ICCID, Log: r.log}
}

// retryUnstored stores what the store refused before.
func (r *reception) retryUnstored(ctx context.Context) {
	if n := r.in.RetryUnstored(ctx, r.source()); n > 0 {
		r.status.update(func(s *api.Modem) { s.Received += uint64(n) })
	}
}

// received counts a received SMS the store took.
func (r *reception) received(t Taken) {
	if t.Message {
		r.status.update(func(s *api.Modem) { s.Received++ })
	}
}

// indication handles one unsolicited line from the modem. It returns an
// error only when the session must start over.
func (r *reception) indication(ctx context.Context, ev gsm.Event) error {
	switch e := ev.(type) {
	case gsm.Unreadable:
		r.log.Warn("unreadable indication", "name", e.Name, "err", e.Err)
	case gsm.NewStored:
		mem := r.modem.Memory(r.rs)
		err := mem.In(ctx, e.Slot.Mem, func() error { return r.readStored(ctx, mem, e.Slot.Index) })
		if err != nil {
			r.unread = true
			r.log.Warn("reading a new message failed; a sweep takes it soon", "err", err)
		}
	case gsm.Delivered:
		// Acknowledge first, within the modem's window, keeping the PDU in
		// memory until it is stored; settings the modem turned out to have
		// lost are applied again once it is.
		var reapply bool
		if r.rs.NeedsAck {
			reapply, _ = r.modem.Ack(ctx)
		}
		src := r.source()
		t, err := r.in.Take(ctx, src, e.PDU)
		switch {
		case err != nil:
			// Acknowledged: the network will not send it again.
			r.in.Keep(src, e.PDU, err)
		case t.Undecodable != nil:
			r.log.Warn("dropped an undecodable PDU the modem delivered directly", "err", t.Undecodable)
		}
		r.received(t)
		if reapply {
			return r.setup(ctx)
		}
	case gsm.StorageFull:
		if err := r.sweep(ctx); err != nil {
			r.log.Warn("emptying full storage", "err", err)
		}
	}
	return nil
}
