package receiving

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/sms"
)

// Run watches for SIMs that stopped receiving and stores the long messages
// whose parts never all came, until ctx ends; it returns when both checks
// have.
func (r *Receiving) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.runStalledCheck(ctx)
	}()
	r.runIncompleteFlush(ctx)
	wg.Wait()
}

// runStalledCheck watches for SIMs that stopped receiving while their sends
// still go out: the quiet failure every modem gateway meets (indications
// switched off by a missed acknowledgement or a reboot, a full SIM) and that
// no error ever reports.
func (r *Receiving) runStalledCheck(ctx context.Context) {
	after := r.cfg.StalledAfter
	onTicks(ctx, min(after/4, time.Minute), func() {
		stalled, flagged, err := r.devices.StalledSIMs(ctx, r.now(), after)
		if err != nil {
			r.log.Error("stalled-receiving check", "err", err)
			return
		}
		for _, iccid := range stalled {
			if !slices.Contains(flagged, iccid) {
				r.log.Warn("SIM sends but has received nothing for too long: receiving may have stopped", "iccid", sms.MaskDigits(iccid), "after", after)
			}
			r.devices.SetReceiveStalled(ctx, iccid, true)
		}
		for _, iccid := range flagged {
			if !slices.Contains(stalled, iccid) {
				r.devices.SetReceiveStalled(ctx, iccid, false)
			}
		}
	})
}

// runIncompleteFlush stores, marked incomplete, the long messages whose
// missing parts did not come within receive.incomplete_after: a reply cut in
// half is still a reply, and it must not wait forever for a part the network
// lost.
func (r *Receiving) runIncompleteFlush(ctx context.Context) {
	onTicks(ctx, min(r.cfg.IncompleteAfter/4, time.Minute), func() {
		msgs, err := r.inbox.FlushIncomplete(ctx, r.now().Add(-r.cfg.IncompleteAfter))
		if err != nil {
			r.log.Error("flush incomplete messages", "err", err)
			return
		}
		for _, m := range msgs {
			r.log.Warn("stored a long message with parts missing", "inbox", m.ID, "from", sms.MaskNumber(m.Sender), "parts", m.Parts)
		}
	})
}

// onTicks runs fn every d, the first time after d, until ctx ends.
func onTicks(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
