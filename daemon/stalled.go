package daemon

import (
	"context"
	"slices"
	"time"

	"github.com/gsmbridge/gsmbridge/sms"
)

// runStalledCheck watches for SIMs that stopped receiving while their sends
// still go out: the quiet failure every modem gateway meets (indications
// switched off by a missed acknowledgement or a reboot, a full SIM) and that
// no error ever reports.
func (d *Daemon) runStalledCheck(ctx context.Context) {
	onTicks(ctx, min(d.cfg.Receive.StalledAfter/4, time.Minute), func() {
		stalled, flagged, err := d.store.Devices.StalledSIMs(ctx, d.now(), d.cfg.Receive.StalledAfter)
		if err != nil {
			d.log.Error("stalled-receiving check", "err", err)
			return
		}
		for _, iccid := range stalled {
			if !slices.Contains(flagged, iccid) {
				d.log.Warn("SIM sends but has received nothing for too long: receiving may have stopped", "iccid", sms.MaskDigits(iccid), "after", d.cfg.Receive.StalledAfter)
			}
			d.store.Devices.SetReceiveStalled(ctx, iccid, true)
		}
		for _, iccid := range flagged {
			if !slices.Contains(stalled, iccid) {
				d.store.Devices.SetReceiveStalled(ctx, iccid, false)
			}
		}
	})
}

// runIncompleteFlush stores, marked incomplete, the long messages whose
// missing parts did not come within receive.incomplete_after: a reply cut in
// half is still a reply, and it must not wait forever for a part the network
// lost.
func (d *Daemon) runIncompleteFlush(ctx context.Context) {
	onTicks(ctx, min(d.cfg.Receive.IncompleteAfter/4, time.Minute), func() {
		msgs, err := d.store.Inbox.FlushIncomplete(ctx, d.now().Add(-d.cfg.Receive.IncompleteAfter))
		if err != nil {
			d.log.Error("flush incomplete messages", "err", err)
			return
		}
		for _, m := range msgs {
			d.log.Warn("stored a long message with parts missing", "inbox", m.ID, "from", sms.MaskNumber(m.Sender), "parts", m.Parts)
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
