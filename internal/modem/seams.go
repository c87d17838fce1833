package modem

import (
	"context"
	"log/slog"

	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/work"
)

// The modem owner's seams (plan §1.3): the owner takes send work through
// Work and hands what the modem received to Inbound, and calls neither the
// scheduler nor the store's receive path itself. The send side is
// internal/sending's Work, the receive side internal/receiving.

// Work is where an owner takes send work from.
type Work interface {
	// Open gives the modem a lane for its SIM; jobs arrive on the channel
	// one at a time, until Close.
	Open(ctx context.Context, l work.Lane) (<-chan work.Job, error)
	// Close ends the lane. A job handed over but not taken goes back to
	// the queue; one taken stays with the owner, which finishes it.
	Close(modemID string)
	// Hold keeps the lane from taking work for why ("degraded",
	// "suspect") while on; reasons are lifted one by one.
	Hold(modemID, why string, on bool)
}

// Inbound takes what a modem received.
type Inbound interface {
	// Watch says the modem takes messages from now on (its receive
	// counters exist at 0).
	Watch(modemID string)
	// Take decodes pdu and stores the message or applies the status
	// report. A PDU that cannot be decoded stores nothing and says why in
	// Taken.Undecodable; the error is the store's.
	Take(ctx context.Context, src Source, pdu string) (Taken, error)
	// Left reports a PDU left in the modem's storage because two reads
	// could not decode it: once per PDU, however many sweeps find it.
	Left(ctx context.Context, src Source, at gsm.Slot, pdu string, cause error)
	// Keep holds an acknowledged direct delivery the store refused: the
	// network will not send it again, so it is retried by RetryUnstored.
	Keep(src Source, pdu string, cause error)
	// RetryUnstored stores what Keep holds for src's modem, in order,
	// and says how many received messages it stored.
	RetryUnstored(ctx context.Context, src Source) (received int)
}

// Source is the modem and SIM a PDU came through.
type Source struct {
	Modem, ICCID string
	Log          *slog.Logger // the owner's
}

// Taken is what Take made of a PDU. Neither Message nor Report: not for
// gsmbridge (a SUBMIT someone left in storage), or undecodable.
type Taken struct {
	Message     bool  // a received SMS was stored
	Report      bool  // a status report was applied
	Undecodable error // why the PDU could not be decoded
}

// Handled says the PDU is safe in the store: the modem's copy may go.
func (t Taken) Handled() bool { return t.Message || t.Report }
