package service

import (
	"context"

	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/modem"
	"github.com/gsmbridge/gsmbridge/internal/receiving"
)

// inbound is Inbound over internal/receiving.
type inbound struct{ r *receiving.Receiving }

var _ modem.Inbound = inbound{}

func (in inbound) Watch(modemID string) { in.r.Watch(modemID) }

func (in inbound) Take(ctx context.Context, src modem.Source, pdu string) (modem.Taken, error) {
	t, err := in.r.Take(ctx, receiving.Source(src), pdu)
	return modem.Taken(t), err
}

func (in inbound) Left(ctx context.Context, src modem.Source, at gsm.Slot, pdu string, cause error) {
	in.r.Left(ctx, receiving.Source(src), at.Index, pdu, cause)
}

func (in inbound) Keep(src modem.Source, pdu string, cause error) {
	in.r.Keep(receiving.Source(src), pdu, cause)
}

func (in inbound) RetryUnstored(ctx context.Context, src modem.Source) int {
	return in.r.RetryUnstored(ctx, receiving.Source(src))
}
