// Package receiving takes what the modems received into the store: SMS
// (long ones assembled by the store) and status reports, the direct
// deliveries the store refused for now, the PDUs no read could decode. It
// watches for SIMs that stopped receiving and for long messages whose parts
// never all came, and serves GET /v1/inbox. README.md is its spec.
package receiving

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
	"github.com/prometheus/client_golang/prometheus"
)

// Inbox is what receiving needs of the store's inbox (store.Inbox).
type Inbox interface {
	StoreReceived(ctx context.Context, r store.Received) (*store.InboxMessage, error)
	RecordStatusReport(ctx context.Context, r store.StatusReport) (*store.Message, error)
	FlushIncomplete(ctx context.Context, olderThan time.Time) ([]*store.InboxMessage, error)
	Inbox(ctx context.Context, after int64, since time.Time, limit int) ([]*store.InboxMessage, error)
	GetInbox(ctx context.Context, id int64) (*store.InboxMessage, error)
}

// Devices is what receiving needs of the store's modems and SIMs
// (store.Devices).
type Devices interface {
	ModemEvent(ctx context.Context, id, typ string, status any) error
	StalledSIMs(ctx context.Context, now time.Time, after time.Duration) (stalled, flagged []string, err error)
	SetReceiveStalled(ctx context.Context, iccid string, stalled bool) error
}

// Options are what New needs beyond the store.
type Options struct {
	Config     config.Receive
	Logger     *slog.Logger
	Now        func() time.Time
	Registerer prometheus.Registerer // nil: the counters are kept but not exposed
}

// Receiving takes received PDUs into one store. Safe for concurrent use;
// what it keeps per modem is touched only by that modem's owner.
type Receiving struct {
	inbox   Inbox
	devices Devices
	cfg     config.Receive
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics

	mu     sync.Mutex
	modems map[string]*modemState // by modem id
}

// modemState is what Receiving keeps for one modem.
type modemState struct {
	unstored  unstoredPDUs // acknowledged direct deliveries the store refused
	undecoded leftPDUs     // undecodable PDUs left in storage and reported
}

// New prepares receiving over the store's inbox and devices; Run starts its
// checks.
func New(inbox Inbox, devices Devices, o Options) *Receiving {
	r := &Receiving{inbox: inbox, devices: devices, cfg: o.Config, log: o.Logger, now: o.Now, metrics: newMetrics(o.Registerer), modems: map[string]*modemState{}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

func (r *Receiving) of(modemID string) *modemState {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.modems[modemID]
	if m == nil {
		m = &modemState{}
		r.modems[modemID] = m
	}
	return m
}

// Source is the modem and SIM a PDU came through.
type Source struct {
	Modem, ICCID string
	Log          *slog.Logger // the modem owner's; nil: receiving's own
}

func (r *Receiving) logOf(src Source) *slog.Logger {
	if src.Log == nil {
		return r.log
	}
	return src.Log
}

// Taken is what Take made of a PDU. Neither Message nor Report: not for
// gsmbridge (a SUBMIT someone left in storage), or undecodable.
type Taken struct {
	Message     bool  // a received SMS was stored
	Report      bool  // a status report was applied
	Undecodable error // why the PDU could not be decoded; nothing was stored
}

// Watch makes the modem's receive counters exist at 0 from now on, so the
// first PDU left undecodable is an increase.
func (r *Receiving) Watch(modemID string) { r.metrics.watch(modemID) }

// Take stores a received SMS or applies a status report, as from src's
// SIM in src's modem (for a retried direct delivery, the ones it came
// through, which may no longer be the ones in the slot). The error is the
// store's.
func (r *Receiving) Take(ctx context.Context, src Source, pdu string) (Taken, error) {
	v, err := sms.DecodeAny(pdu)
	if err != nil {
		return Taken{Undecodable: err}, nil
	}
	switch x := v.(type) {
	case *sms.Deliver:
		rec := store.Received{ICCID: src.ICCID, ModemID: src.Modem, Sender: x.From, Text: x.Text, Encoding: string(x.Encoding),
			Plain: x.PlainText, SCTS: x.SCTS}
		if x.Concat != nil {
			rec.ConcatKey, rec.Seq, rec.Total = sms.ConcatKey(x), x.Concat.Seq, x.Concat.Total
		}
		if _, err := r.inbox.StoreReceived(context.WithoutCancel(ctx), rec); err != nil {
			return Taken{}, fmt.Errorf("store received SMS: %w", err)
		}
		return Taken{Message: true}, nil
	case *sms.StatusReport:
		return Taken{Report: true}, r.recordReport(ctx, src.ICCID, x)
	}
	return Taken{}, nil
}

func (r *Receiving) recordReport(ctx context.Context, iccid string, rep *sms.StatusReport) error {
	outcome := store.ReportDelivered
	switch rep.Outcome() {
	case sms.Pending:
		outcome = store.ReportPending
	case sms.Failed:
		outcome = store.ReportFailed
	}
	recipient := rep.Recipient
	if n, err := sms.Normalize(recipient); err == nil {
		recipient = n
	}
	_, err := r.inbox.RecordStatusReport(context.WithoutCancel(ctx), store.StatusReport{ICCID: iccid, MR: int(rep.MR),
		Recipient: recipient, Status: int(rep.Status), Outcome: outcome, Meaning: rep.Meaning(), SCTS: rep.SCTS, Discharge: rep.Discharge})
	return err
}
