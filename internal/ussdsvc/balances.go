package ussdsvc

import (
	"context"
	"errors"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// errNoBalanceCode: the SIM's operator has no known balance code.
var errNoBalanceCode = errors.New("no balance code is known for this SIM's operator")

// errBalanceSMSLate: the operator said the balance comes by SMS, and none
// came within the wait.
var errBalanceSMSLate = errors.New("the operator announced the balance by SMS, and none arrived in time")

// checkSoon is Service.CheckSoon.
func (bs *balances) checkSoon(iccid string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := bs.balanceStore.ScheduleBalanceCheck(ctx, iccid, bs.now()); err != nil {
		bs.log.Error("schedule balance check", "iccid", sms.MaskDigits(iccid), "err", err)
	}
	bs.poke()
}

// schedule checks each SIM's balance at its operator's interval.
// A SIM seen for the first time gets a slot inside the stagger window
// derived from its ICCID, so a rack does not dial all at once and a SIM
// keeps its slot; slots live in the store, so restarts move nothing. A due
// SIM whose modem holds a session is checked at a later look.
//
// It looks when the next check is due, when a modem turns ready or a check
// is asked for (poke), and every tick while a due SIM sits in a
// ready modem; a due SIM without one waits for its modem.
func (bs *balances) schedule(ctx context.Context, tick time.Duration) {
	watched := map[string]bool{}
	t := time.NewTimer(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-bs.wake:
		}
		next := bs.lookAtBalances(ctx, watched)
		if ctx.Err() != nil {
			return
		}
		t.Stop()
		if !next.IsZero() {
			t.Reset(max(min(next.Sub(bs.now()), balanceLookMax), tick))
		}
	}
}

// balanceLookMax bounds the sleep between looks, so a clock step (suspend,
// NTP) delays a check by at most this.
const balanceLookMax = time.Hour

// poke makes the scheduler look now.
func (bs *balances) poke() {
	select {
	case bs.wake <- struct{}{}:
	default:
	}
}

// lookAtBalances runs the checks due now and returns when to look next,
// zero for when woken.
func (bs *balances) lookAtBalances(ctx context.Context, watched map[string]bool) time.Time {
	for _, m := range bs.modems.Snapshots() {
		if m.State != api.ModemReady || m.ICCID == "" || watched[m.ICCID] {
			continue
		}
		if p, ok := bs.operators.ForIMSI(m.IMSI); !ok || p.BalanceCode == "" {
			continue
		}
		if err := bs.balanceStore.WatchBalance(ctx, m.ICCID, bs.now().Add(staggerOffset(m.ICCID, bs.o.Balance.Stagger))); err != nil {
			bs.log.Error("schedule first balance check", "err", err)
			continue
		}
		watched[m.ICCID] = true
	}
	due, err := bs.balanceStore.BalanceChecksDue(ctx, bs.now())
	if err != nil {
		bs.log.Error("balance schedule", "err", err)
		return bs.now()
	}
	for _, iccid := range due {
		if ctx.Err() != nil {
			return time.Time{}
		}
		st, ok := bs.modemOfSIM(iccid)
		if !ok {
			continue // checked when its SIM is back in a ready modem
		}
		_, err := bs.checkBalance(ctx, st, bs.balanceInterval(st.IMSI))
		if err != nil && !errors.As(err, new(*store.USSDBusyError)) {
			bs.log.Warn("scheduled balance check", "modem", st.ID, "err", err)
		}
	}
	now := bs.now()
	if due, err = bs.balanceStore.BalanceChecksDue(ctx, now); err != nil {
		return now
	}
	for _, iccid := range due {
		if _, ok := bs.modemOfSIM(iccid); ok {
			return now // its modem was busy: look again at the next tick
		}
	}
	next, ok, err := bs.balanceStore.NextBalanceCheck(ctx, now)
	if err != nil {
		bs.log.Error("balance schedule", "err", err)
		return now
	}
	if !ok {
		return time.Time{}
	}
	return next
}

func staggerOffset(iccid string, window time.Duration) time.Duration {
	if window <= 0 {
		return 0
	}
	// 64 bits: a 32-bit hash taken modulo nanoseconds would never reach
	// past 4.3 s, and a rack would dial all its balances at start-up.
	h := fnv.New64a()
	h.Write([]byte(iccid))
	return time.Duration(h.Sum64() % uint64(window))
}

// balanceInterval is the operator's balance_interval when configured, else
// balance.interval.
func (bs *balances) balanceInterval(imsi string) time.Duration {
	for _, op := range bs.o.Operators {
		if op.BalanceInterval > 0 && slices.ContainsFunc(op.PLMN, func(plmn string) bool { return strings.HasPrefix(imsi, plmn) }) {
			return op.BalanceInterval
		}
	}
	return bs.o.Balance.Interval
}

// modemOfSIM finds the ready modem a SIM is in now.
func (bs *balances) modemOfSIM(iccid string) (api.Modem, bool) {
	for _, m := range bs.modems.Snapshots() {
		if m.ICCID == iccid && m.State == api.ModemReady {
			return m, true
		}
	}
	return api.Modem{}, false
}

// checkBalance asks the network for a SIM's balance through the modem it is
// in and stores the reading. When the operator answers that the balance
// comes by SMS, the modem is freed and the inbox is watched for the next SMS
// from one of the operator's service senders to that SIM, for up to
// ussd.reply_timeout; the receive path stores it like any SMS, so it is also
// in the inbox API.
//
// every > 0 makes this the SIM's scheduled check: the next one is set
// every later, in the same store transaction as the reading or the failure.
// A check that finds the modem busy in a USSD session leaves the schedule
// alone, so the SIM is checked at a later look.
func (bs *balances) checkBalance(ctx context.Context, st api.Modem, every time.Duration) (*store.Balance, error) {
	next := func() time.Time {
		if every <= 0 {
			return time.Time{}
		}
		return bs.now().Add(every)
	}
	wctx := context.WithoutCancel(ctx)
	p, ok := bs.operators.ForIMSI(st.IMSI)
	if !ok || p.BalanceCode == "" {
		bs.rescheduleBalance(wctx, st.ICCID, next())
		return nil, errNoBalanceCode
	}
	u, err := bs.ussdStore.ClaimUSSD(ctx, store.USSDSession{ID: store.NewID("ussd_", bs.now()), ModemID: st.ID, ICCID: st.ICCID,
		Purpose: purposeBalance, ExpiresAt: bs.now().Add(bs.sessions.exchangeTimeout())})
	if err != nil {
		if !errors.As(err, new(*store.USSDBusyError)) {
			bs.rescheduleBalance(wctx, st.ICCID, next())
		}
		return nil, err
	}
	asked := bs.now()
	reply, err := bs.sessions.ussdOnModem(ctx, st, p.BalanceCode)
	reason := "done"
	if err == nil && reply.Status == ussd.StatusActionRequired {
		reason = "balance code opened a menu" // the network waits: end it
	}
	if _, cerr := bs.sessions.closeSession(wctx, u, store.USSDRunning, reasonIf(err, reason)); cerr != nil {
		bs.log.Error("close balance session", "err", cerr)
	}
	if err != nil {
		if nerr := bs.balanceStore.NoteBalanceFailure(wctx, st.ICCID, err.Error(), next()); nerr != nil {
			bs.log.Error("count balance failure", "err", nerr)
		}
		return nil, err
	}
	b := store.Balance{ICCID: st.ICCID, ModemID: st.ID, Text: reply.Text, Raw: reply.Raw, Source: "ussd"}
	if p.BalanceComesBySMS(reply.Text) {
		m, err := bs.awaitBalanceSMS(ctx, st.ICCID, p.ServiceSenders, asked)
		if err != nil {
			if nerr := bs.balanceStore.NoteBalanceFailure(wctx, st.ICCID, err.Error(), next()); nerr != nil {
				bs.log.Error("count balance failure", "err", nerr)
			}
			return nil, err
		}
		b.Text, b.Raw, b.Source = m.Text, m.Text, "sms"
	}
	parsed := p.ParseBalance(b.Text)
	threshold, low := bs.lowThreshold(st.ICCID, st.IMSI, parsed)
	if parsed.Parsed {
		b.Parsed, b.Amount, b.Currency = true, parsed.Amount.String(), parsed.Currency
	}
	crossed, err := bs.balanceStore.RecordBalance(wctx, b, threshold, low, next())
	if err != nil {
		return nil, err
	}
	if crossed {
		bs.log.Warn("SIM balance is low", "modem", st.ID, "iccid", sms.MaskDigits(st.ICCID), "balance", b.Amount, "threshold", threshold)
	}
	if !b.Parsed {
		bs.log.Warn("balance reply not understood; raw text kept", "modem", st.ID, "iccid", sms.MaskDigits(st.ICCID))
	}
	return &b, nil
}

// rescheduleBalance sets a SIM's next check when a check ended before it
// could record anything; a zero next leaves the schedule alone.
func (bs *balances) rescheduleBalance(ctx context.Context, iccid string, next time.Time) {
	if next.IsZero() {
		return
	}
	if err := bs.balanceStore.ScheduleBalanceCheck(ctx, iccid, next); err != nil {
		bs.log.Error("schedule balance check", "iccid", sms.MaskDigits(iccid), "err", err)
	}
}

func reasonIf(err error, ok string) string {
	if err != nil {
		return "failed"
	}
	return ok
}

// lowThreshold returns the SIM's configured threshold and whether a parsed
// balance is under it.
func (bs *balances) lowThreshold(iccid, imsi string, b ussd.Balance) (string, bool) {
	ov, ok := bs.operators.SIM(iccid, imsi)
	if !ok || ov.BalanceLow == "" {
		return "", false
	}
	limit, err := ussd.ParseAmount(ov.BalanceLow)
	if err != nil {
		return "", false // config validation accepts only amounts
	}
	return limit.String(), b.Parsed && b.Amount.Kopecks() < limit.Kopecks()
}

// receivedSMS are the events after which a balance SMS may be in the inbox.
var receivedSMS = store.EventTypes{"sms.received"}

// awaitBalanceSMS waits for the operator's service SMS: the receive path is
// the owner's, and the store, where every received SMS lands with its event,
// is where it is seen; so it reads the inbox again each time an SMS is
// received, and sleeps through the send path's commits.
func (bs *balances) awaitBalanceSMS(ctx context.Context, iccid string, senders []string, since time.Time) (*store.InboxMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, bs.o.USSD.ReplyTimeout)
	defer cancel()
	for {
		_, grew := bs.logEnd.ChangedOf(receivedSMS)
		m, err := bs.inbox.ServiceSMSSince(ctx, iccid, senders, since.Add(-time.Second))
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, errBalanceSMSLate
		case <-grew:
		}
	}
}
