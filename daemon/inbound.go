package daemon

import (
	"context"
	"fmt"
	"sync"

	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

// inbound is Inbound over the store: received SMS and status reports, the
// direct deliveries the store refused, the undecodable PDUs reported.
type inbound struct {
	d *Daemon

	mu     sync.Mutex
	modems map[string]*modemInbound // by modem id
}

var _ Inbound = (*inbound)(nil)

// modemInbound is what inbound keeps for one modem. Only that modem's
// owner goroutine touches it.
type modemInbound struct {
	unstored  unstoredPDUs // acknowledged direct deliveries the store refused
	undecoded leftPDUs     // undecodable PDUs left in storage and reported
}

func newInbound(d *Daemon) *inbound { return &inbound{d: d, modems: map[string]*modemInbound{}} }

func (in *inbound) of(modemID string) *modemInbound {
	in.mu.Lock()
	defer in.mu.Unlock()
	m := in.modems[modemID]
	if m == nil {
		m = &modemInbound{}
		in.modems[modemID] = m
	}
	return m
}

// Take stores a received SMS or applies a status report, from src's SIM
// in src's modem (for a retried direct delivery, the ones it came
// through, which may no longer be the ones in the slot).
func (in *inbound) Take(ctx context.Context, src Source, pdu string) (Taken, error) {
	v, err := sms.DecodeAny(pdu)
	if err != nil {
		return Taken{Undecodable: err}, nil
	}
	switch x := v.(type) {
	case *sms.Deliver:
		r := store.Received{ICCID: src.ICCID, ModemID: src.Modem, Sender: x.From, Text: x.Text, Encoding: string(x.Encoding),
			Plain: x.PlainText, SCTS: x.SCTS}
		if x.Concat != nil {
			r.ConcatKey, r.Seq, r.Total = sms.ConcatKey(x), x.Concat.Seq, x.Concat.Total
		}
		if _, err := in.d.store.Inbox.StoreReceived(context.WithoutCancel(ctx), r); err != nil {
			return Taken{}, fmt.Errorf("store received SMS: %w", err)
		}
		return Taken{Message: true}, nil
	case *sms.StatusReport:
		return Taken{Report: true}, in.d.recordReport(ctx, src.ICCID, x)
	}
	return Taken{}, nil
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
	_, err := d.store.Inbox.RecordStatusReport(context.WithoutCancel(ctx), store.StatusReport{ICCID: iccid, MR: int(r.MR),
		Recipient: recipient, Status: int(r.Status), Outcome: outcome, Meaning: r.Meaning(), SCTS: r.SCTS, Discharge: r.Discharge})
	return err
}

func (in *inbound) Keep(src Source, pdu string, cause error) {
	u := &in.of(src.Modem).unstored
	if !u.add(unstoredPDU{pdu: pdu, iccid: src.ICCID, modemID: src.Modem}) {
		src.Log.Error("could not store a directly delivered SMS, and too many wait in memory already: it is lost", "err", cause)
	} else {
		src.Log.Error("could not store a directly delivered SMS; kept in memory and retried", "err", cause, "waiting", u.len())
	}
}

func (in *inbound) RetryUnstored(ctx context.Context, src Source) (received int) {
	u := &in.of(src.Modem).unstored
	if u.len() == 0 {
		return 0
	}
	err := u.retry(func(p unstoredPDU) error {
		t, err := in.Take(ctx, Source{Modem: p.modemID, ICCID: p.iccid, Log: src.Log}, p.pdu)
		if t.Undecodable != nil {
			src.Log.Warn("dropped an undecodable PDU the modem delivered directly", "err", t.Undecodable)
		}
		if t.Message {
			received++
		}
		return err
	})
	if err != nil {
		src.Log.Error("directly delivered SMS still not stored", "err", err, "waiting", u.len())
		return received
	}
	src.Log.Info("directly delivered SMS stored at last")
	return received
}

// unstoredPDUs are PDUs a modem handed over directly (+CMT, +CDS) and that
// were acknowledged, but that the store refused: the network will not send
// them again, so inbound keeps them and retries until they are stored.
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
