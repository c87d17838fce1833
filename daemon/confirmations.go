package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

// confirmationRoutes serve /v1/confirmations and /v1/quote.
func (d *Daemon) confirmationRoutes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Pattern: "/v1/confirmations", Scope: config.ScopeConfirm, Handler: d.postConfirmation},
		{Method: "GET", Pattern: "/v1/confirmations", Scope: config.ScopeRead, Handler: d.listConfirmations},
		{Method: "GET", Pattern: "/v1/confirmations/{id}", Scope: config.ScopeRead, Handler: d.getConfirmation},
		{Method: "DELETE", Pattern: "/v1/confirmations/{id}", Scope: config.ScopeConfirm, Handler: d.deleteConfirmation},
		{Method: "POST", Pattern: "/v1/quote", Scope: config.ScopeConfirm, Handler: d.postQuote},
	}
}

const (
	// confirmationTick is how often runConfirmations looks for decisions and
	// deadlines; it bounds how late an expiry or a scheduler wake-up comes.
	confirmationTick = time.Second
	// vetoTimeout bounds the store lookup the scheduler's veto makes under
	// its lock; a lookup that cannot finish in time vetoes, and the message
	// waits for the next dispatch.
	vetoTimeout = 250 * time.Millisecond
)

var (
	confirmationIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	// txnPattern: what fits the template check (12 characters) and reads
	// unambiguously in an SMS.
	txnPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,12}$`)
)

func (d *Daemon) postConfirmation(w http.ResponseWriter, r *http.Request) {
	var req api.NewConfirmation
	if err := httpapi.DecodeText(r, &req); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	n, err := d.validateConfirmation(req)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	c, m, existed, err := d.store.Confirmations.CreateConfirmation(r.Context(), n)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if existed {
		httpapi.WriteJSON(w, http.StatusOK, d.confirmationViews(c)[0])
		return
	}
	d.sched.Enqueue(m)
	w.Header().Set("Location", "/v1/confirmations/"+c.ID)
	httpapi.WriteJSON(w, http.StatusAccepted, d.confirmationViews(c)[0])
}

// validateConfirmation checks every field and normalises the request, so
// that two spellings of one payment compare equal when its id is repeated.
func (d *Daemon) validateConfirmation(req api.NewConfirmation) (store.NewConfirmation, error) {
	var n store.NewConfirmation
	if !confirmationIDPattern.MatchString(req.ID) {
		return n, httpapi.BadField("id", "must be 1 to 128 letters, digits or . _ : -")
	}
	if req.Phone == "" {
		return n, httpapi.BadField("phone", "is required")
	}
	phone, err := sms.Normalize(req.Phone)
	if err != nil {
		return n, httpapi.BadField("phone", "%v", err)
	}
	if !txnPattern.MatchString(req.Txn) {
		return n, httpapi.BadField("txn", "must be 1 to 12 letters, digits or dashes")
	}
	amount, err := payment.ParseAmount(req.Amount)
	if err != nil {
		return n, fieldError(err)
	}
	if req.Currency != "RUB" {
		return n, httpapi.BadField("currency", "must be \"RUB\"")
	}
	cc := d.cfg.Confirmations
	ttl := cc.DefaultTTL
	if req.TTL != "" {
		ttl, err = time.ParseDuration(req.TTL)
		if err != nil || ttl <= 0 {
			return n, httpapi.BadField("ttl", "must be a positive duration such as \"30m\"")
		}
		if ttl > d.cfg.Send.MaxTTL {
			return n, httpapi.BadField("ttl", "must be at most %s", d.cfg.Send.MaxTTL)
		}
	}
	if req.CustomerOperator != "" {
		if err := validPLMN(req.CustomerOperator); err != nil {
			return n, err
		}
	}
	template := cc.Template
	if req.Text != "" {
		if err := payment.CheckTemplate(req.Text); err != nil {
			return n, fieldError(err)
		}
		template = req.Text
	}
	text := payment.FillTemplate(template, req.Txn, amount)
	parts, enc := sms.Split(text)
	if parts != 1 {
		return n, httpapi.BadField("text", "takes %d SMS with this txn and amount; a confirmation must fit one, or the customer may read half of it", parts)
	}
	askedTTL := time.Duration(0)
	if req.TTL != "" {
		askedTTL = ttl
	}
	fp := payment.Fingerprint(payment.Request{Phone: phone, Txn: req.Txn, Amount: amount, Currency: req.Currency,
		Template: req.Text, CustomerOperator: req.CustomerOperator, TTL: askedTTL})
	admit, err := d.admitPayment(req.CustomerOperator, amount)
	if err != nil {
		return n, err
	}
	day, month := payment.Windows(d.now())
	return store.NewConfirmation{ID: req.ID, Phone: phone, Txn: req.Txn, Amount: amount, Currency: req.Currency,
		CustomerOperator: req.CustomerOperator, Text: text, Encoding: string(enc), Parts: parts,
		CancelWords: cc.CancelWords, TTL: ttl, Fingerprint: fp,
		DayStart: day, MonthStart: month, Admit: admit}, nil
}

// fieldError answers a payment rule's complaint about a field as the API's
// 400 naming it.
func fieldError(err error) error {
	var fe *payment.FieldError
	if errors.As(err, &fe) {
		return httpapi.BadField(fe.Field, "%s", fe.Message)
	}
	return err
}

func (d *Daemon) getConfirmation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	wait, err := httpapi.ParseWait(q.Get("wait"))
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	known := -1
	if s := q.Get("version"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			httpapi.WriteError(w, httpapi.BadField("version", "must be the version of an earlier answer"))
			return
		}
		known = v
	}
	c, err := d.store.Confirmations.GetConfirmation(r.Context(), id)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if known < 0 {
		known = c.Version // wait for any change from now on
	}
	if wait > 0 && c.Version == known && !c.State.Final() {
		release, ok := d.longPolls.Take()
		if !ok {
			httpapi.WriteError(w, httpapi.ErrTooManyLongPolls)
			return
		}
		defer release()
		if c, err = d.awaitConfirmation(r.Context(), id, known, wait); err != nil {
			httpapi.WriteError(w, err)
			return
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, d.confirmationViews(c)[0])
}

// awaitConfirmation returns the confirmation once its version differs from
// known, or as it stands when wait ran out or the client left. Every new
// version is written with its event, in other writers' transactions too (a
// modem owner storing a reply), so the log's growth is the one wake-up that
// sees them all.
func (d *Daemon) awaitConfirmation(ctx context.Context, id string, known int, wait time.Duration) (*store.Confirmation, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		// Taken before the read: a version written in between wakes the
		// wait instead of being missed until the next one.
		_, grew := d.store.LogEnd().Changed()
		c, err := d.store.Confirmations.GetConfirmation(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				// The deadline, not the store: answer as it stands.
				return d.store.Confirmations.GetConfirmation(context.WithoutCancel(ctx), id)
			}
			return nil, err
		}
		if c.Version != known {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return d.store.Confirmations.GetConfirmation(context.WithoutCancel(ctx), id)
		case <-grew:
		}
	}
}

func (d *Daemon) deleteConfirmation(w http.ResponseWriter, r *http.Request) {
	var notice *store.CancelNotice
	id := r.PathValue("id")
	if cc := d.cfg.Confirmations; cc.CancelNotice {
		// The notice names the txn; whether the confirmation is still
		// pending is decided by the store's transaction, not by this read.
		c, err := d.store.Confirmations.GetConfirmation(r.Context(), id)
		if err != nil {
			httpapi.WriteError(w, err)
			return
		}
		text := strings.ReplaceAll(cc.CancelNoticeText, "{txn}", c.Txn)
		_, enc := sms.Split(text)
		notice = &store.CancelNotice{Text: text, Encoding: string(enc), TTL: d.cfg.Send.DefaultTTL}
	}
	c, unsent, noticeMsg, err := d.store.Confirmations.CancelConfirmation(r.Context(), id, notice)
	if err != nil {
		if errors.Is(err, store.ErrConflict) && c != nil {
			httpapi.WriteJSON(w, http.StatusConflict, map[string]any{"error": httpapi.Error{Code: "conflict",
				Message: "confirmation is " + string(c.State) + "; only a pending one can be cancelled"}, "confirmation": store.ConfirmationView(c)})
			return
		}
		httpapi.WriteError(w, err)
		return
	}
	if unsent != nil {
		d.sched.Remove(unsent.ID)
	}
	if noticeMsg != nil {
		d.sched.Enqueue(noticeMsg)
	}
	d.sched.Poke() // the customer's SIM may take their next confirmation now
	httpapi.WriteJSON(w, http.StatusOK, store.ConfirmationView(c))
}

func (d *Daemon) listConfirmations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.ConfirmationFilter{State: payment.State(q.Get("state")), After: q.Get("cursor"), Limit: 100}
	switch f.State {
	case "", payment.Queued, payment.Sent, payment.Confirmed, payment.Cancelled, payment.Expired, payment.Failed:
	default:
		httpapi.WriteError(w, httpapi.BadField("state", "must be one of queued, sent, confirmed, cancelled, expired, failed"))
		return
	}
	since, limit, err := httpapi.PageParams(q, f.Limit)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	f.Since, f.Limit = since, limit
	list, next, err := d.store.Confirmations.ListConfirmations(r.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		httpapi.WriteError(w, httpapi.BadField("cursor", "must be the next_cursor of a previous page"))
		return
	}
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, api.ConfirmationList{Confirmations: d.confirmationViews(list...), NextCursor: next})
}

// confirmationViews are confirmations as the API shows them: while queued,
// with what holds their SMS.
func (d *Daemon) confirmationViews(list ...*store.Confirmation) []api.Confirmation {
	var queued []string
	for _, c := range list {
		if c.State == payment.Queued {
			queued = append(queued, c.MessageID)
		}
	}
	var holds map[string]Hold
	if len(queued) > 0 {
		holds = d.sched.Holds(queued...)
	}
	out := make([]api.Confirmation, len(list))
	for i, c := range list {
		out[i] = store.ConfirmationView(c)
		if h, ok := holds[c.MessageID]; ok && c.State == payment.Queued {
			out[i].Hold = &h
		}
	}
	return out
}

// runConfirmations keeps confirmation timers (expiry after the SIM was read
// again past the deadline) until ctx ends. All its state is in the store, so
// after a restart the timers are simply found again.
//
// It also wakes the scheduler when a confirmation is decided: a decision
// frees the customer's SIM for their next confirmation, and it is often made
// where the scheduler cannot be told (a reply stored by a modem owner).
//
// Both wake on the store: the log's growth for decisions, a timer set to the
// next deadline for expiry. While a confirmation is past its deadline but
// not ended (in its grace, its SIM out, its SMS still queued) the deadline
// rule is asked again every confirmationTick, since what it waits for (a
// modem reading the SIM, the scheduler expiring the SMS) is not in the log.
func (d *Daemon) runConfirmations(ctx context.Context) {
	cursor, grew := d.store.LogEnd().Changed()
	d.sched.Poke()
	expiry := time.NewTimer(0)
	defer expiry.Stop()
	armed := d.now() // when expiry fires; zero while stopped
	arm := func(at time.Time) {
		if !armed.IsZero() && !at.Before(armed) {
			return
		}
		expiry.Reset(max(at.Sub(d.now()), 0))
		armed = at
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-grew:
			_, grew = d.store.LogEnd().Changed()
			ch, err := d.store.Confirmations.ConfirmationsChangedSince(ctx, cursor)
			if err != nil {
				if ctx.Err() == nil {
					d.log.Error("confirmations: read the event log", "err", err)
				}
				continue
			}
			if ch.Decided {
				d.observeReplies(ctx, cursor, ch.Last)
				d.sched.Poke()
			}
			cursor = ch.Last
			if !ch.Changed {
				continue
			}
			// A confirmation created now may be due before the timer.
			if at, ok, err := d.store.Confirmations.NextConfirmationDue(ctx); err != nil {
				if ctx.Err() == nil {
					d.log.Error("confirmations: find the next deadline", "err", err)
				}
			} else if ok {
				arm(at)
			}
			continue
		case <-expiry.C:
			armed = time.Time{}
		}
		changed, waiting := d.expireConfirmations(ctx)
		if changed {
			d.sched.Poke()
		}
		if waiting {
			arm(d.now().Add(confirmationTick))
		} else if at, ok, err := d.store.Confirmations.NextConfirmationDue(ctx); err != nil {
			if ctx.Err() == nil {
				d.log.Error("confirmations: find the next deadline", "err", err)
			}
			arm(d.now().Add(confirmationTick))
		} else if ok {
			arm(at)
		}
	}
}

// expireConfirmations applies the deadline rule (payment.AtDeadline) to
// every due confirmation and reports whether it ended any, or found a queued
// one whose SMS the scheduler must now expire; waiting says whether a due
// one is left for the rule to look at again.
func (d *Daemon) expireConfirmations(ctx context.Context) (changed, waiting bool) {
	now := d.now()
	rules := payment.Deadlines{Grace: d.cfg.Confirmations.ExpiryGrace, LostAfter: d.cfg.Confirmations.SIMLostAfter}
	due, err := d.store.Confirmations.ConfirmationsDue(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("confirmations: find due ones", "err", err)
		}
		return false, true
	}
	var modems []ModemStatus
	for _, c := range due {
		v := payment.AtDeadline(c.State, c.ExpiresAt, now, rules, func(since time.Time) bool {
			if modems == nil {
				modems = d.Modems()
			}
			return simReadSince(modems, c.ICCID, since)
		})
		switch v.Action {
		case payment.Wait:
			waiting = true
			continue
		case payment.SMSExpires:
			changed, waiting = true, true
			continue
		case payment.Expire:
			_, err = d.store.Confirmations.ExpireConfirmation(ctx, c.ID)
		case payment.Fail:
			_, err = d.store.Confirmations.FailConfirmation(ctx, c.ID, v.Reason)
		}
		if err != nil {
			if !errors.Is(err, store.ErrConflict) && ctx.Err() == nil {
				d.log.Error("confirmations: end after the deadline", "confirmation", c.ID, "err", err)
			}
			waiting = waiting || !errors.Is(err, store.ErrConflict)
			continue
		}
		changed = true
	}
	return changed, waiting
}

// simReadSince reports whether the SIM's modem is ready and has been since
// before t.
func simReadSince(modems []ModemStatus, iccid string, t time.Time) bool {
	for _, m := range modems {
		if m.ICCID == iccid && m.State == StateReady && !m.Since.After(t) {
			return true
		}
	}
	return false
}

// confirmationEligible tells the scheduler whether SIM iccid may send m: a
// customer has at most one pending confirmation per SIM, so a reply is never
// ambiguous.
//
// Only a confirmation's own SMS is looked up, with one indexed read of the
// store, which stays the single truth about which confirmation is pending
// where: the decisions are made inside other writers' transactions, so an
// in-memory copy could only lag behind them.
func (d *Daemon) confirmationEligible(m *store.Message, iccid string) bool {
	if !store.IsConfirmationMessage(m) {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), vetoTimeout)
	defer cancel()
	busy, err := d.store.Confirmations.PendingOnSIM(ctx, m.To, iccid, m.ID)
	if err != nil {
		d.log.Error("confirmations: check the customer's pending confirmations", "message", m.ID, "err", err)
		return false
	}
	return !busy
}

// observeReplies records, for the metrics, how long customers took to answer
// the confirmations a reply decided between two points of the event log.
func (d *Daemon) observeReplies(ctx context.Context, after, upto int64) {
	evs, err := d.store.Events(ctx, store.EventFilter{After: after, Upto: upto,
		Types: store.EventTypes{"confirmation.confirmed", "confirmation.cancelled"}, Limit: 1000})
	if err != nil {
		return
	}
	for _, ev := range evs {
		var c struct {
			SentAt  time.Time `json:"sent_at"`
			FinalAt time.Time `json:"final_at"`
			Reason  string    `json:"reason"`
		}
		if json.Unmarshal(ev.Data, &c) != nil {
			continue
		}
		// A long reply decides by its first part, before it has an inbox
		// id, so the reason tells a customer's cancel from the API's.
		byReply := ev.Type == "confirmation.confirmed" || c.Reason == payment.ReasonCustomerCancelled
		if byReply && !c.SentAt.IsZero() && c.FinalAt.After(c.SentAt) {
			d.metrics.confirmationReply(c.FinalAt.Sub(c.SentAt))
		}
	}
}
