package confirm

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

var (
	// confirmationIDPattern: what a payment core may name a confirmation.
	// The id is a path segment of its URL, where "." and ".." would name
	// the collection or the API's root instead: those two are refused.
	confirmationIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	// txnPattern: what fits the template check (12 characters) and reads
	// unambiguously in an SMS.
	txnPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,12}$`)
)

// Post answers POST /v1/confirmations; the fleet also asks it for repeats
// of an id this host holds that reach other hosts.
func (s *Confirmations) Post(w http.ResponseWriter, r *http.Request) {
	var req api.NewConfirmation
	if err := httpapi.DecodeText(r, &req); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	n, err := s.validate(req)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if s.inFleet() {
		// One this host holds is answered here, as on one host.
		_, err := s.store.GetConfirmation(r.Context(), n.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			s.postToFleet(w, r, req, n)
			return
		case err != nil:
			httpapi.WriteError(w, err)
			return
		}
	}
	c, m, existed, err := s.store.CreateConfirmation(r.Context(), n)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if existed {
		httpapi.WriteJSON(w, http.StatusOK, s.views(c)[0])
		return
	}
	s.queue.Enqueue(m)
	w.Header().Set("Location", "/v1/confirmations/"+c.ID)
	httpapi.WriteJSON(w, http.StatusAccepted, s.views(c)[0])
}

// validate checks every field and normalises the request, so
// that two spellings of one payment compare equal when its id is repeated.
func (s *Confirmations) validate(req api.NewConfirmation) (store.NewConfirmation, error) {
	var n store.NewConfirmation
	if !confirmationIDPattern.MatchString(req.ID) || req.ID == "." || req.ID == ".." {
		return n, httpapi.BadField("id", "must be 1 to 128 letters, digits or . _ : -, and not . or ..")
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
	cc := s.cfg
	ttl := cc.DefaultTTL
	if req.TTL != "" {
		ttl, err = time.ParseDuration(req.TTL)
		if err != nil || ttl <= 0 {
			return n, httpapi.BadField("ttl", "must be a positive duration such as \"30m\"")
		}
		if ttl > s.maxTTL {
			return n, httpapi.BadField("ttl", "must be at most %s", s.maxTTL)
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
	admit, err := s.admitPayment(req.CustomerOperator, amount)
	if err != nil {
		return n, err
	}
	day, month := payment.Windows(s.now())
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

// Get answers GET /v1/confirmations/{id}, long-polled with wait and
// version; the fleet also asks it for the reads other hosts forward here.
func (s *Confirmations) Get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	wait, err := httpapi.ParseWait(q.Get("wait"))
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	known := -1
	if ver := q.Get("version"); ver != "" {
		v, err := strconv.Atoi(ver)
		if err != nil || v < 1 {
			httpapi.WriteError(w, httpapi.BadField("version", "must be the version of an earlier answer"))
			return
		}
		known = v
	}
	c, err := s.store.GetConfirmation(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) && s.inFleet() && s.fleet.Read(w, r, id) {
		return
	}
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if known < 0 {
		known = c.Version // wait for any change from now on
	}
	if wait > 0 && c.Version == known && !c.State.Final() {
		release, ok := s.longPolls.Take()
		if !ok {
			httpapi.WriteError(w, httpapi.ErrTooManyLongPolls)
			return
		}
		defer release()
		if c, err = s.await(r.Context(), id, known, wait); err != nil {
			httpapi.WriteError(w, err)
			return
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, s.views(c)[0])
}

// await returns the confirmation once its version differs from
// known, or as it stands when wait ran out or the client left. Every new
// version is written with its event, in other writers' transactions too (a
// modem owner storing a reply), so the log's growth is the one wake-up that
// sees them all.
func (s *Confirmations) await(ctx context.Context, id string, known int, wait time.Duration) (*store.Confirmation, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		// Taken before the read: a version written in between wakes the
		// wait instead of being missed until the next one.
		_, grew := s.eventLog.LogEnd().Changed()
		c, err := s.store.GetConfirmation(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				// The deadline, not the store: answer as it stands.
				return s.store.GetConfirmation(context.WithoutCancel(ctx), id)
			}
			return nil, err
		}
		if c.Version != known {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return s.store.GetConfirmation(context.WithoutCancel(ctx), id)
		case <-grew:
		}
	}
}

// Delete answers DELETE /v1/confirmations/{id}; the fleet also asks it
// for the cancels other hosts forward here.
func (s *Confirmations) Delete(w http.ResponseWriter, r *http.Request) {
	var notice *store.CancelNotice
	id := r.PathValue("id")
	if s.inFleet() {
		_, err := s.store.GetConfirmation(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) && s.fleet.Cancel(w, r, id) {
			return
		}
	}
	// A cancel goes through once asked for, whether or not its client
	// waits for the answer: in a fleet the confirmation may have just been
	// taken to be cancelled here, and left queued, it would be claimed by
	// this host with its SMS in no queue.
	ctx := context.WithoutCancel(r.Context())
	if cc := s.cfg; cc.CancelNotice {
		// The notice names the txn; whether the confirmation is still
		// pending is decided by the store's transaction, not by this read.
		c, err := s.store.GetConfirmation(ctx, id)
		if err != nil {
			httpapi.WriteError(w, err)
			return
		}
		text := strings.ReplaceAll(cc.CancelNoticeText, "{txn}", c.Txn)
		_, enc := sms.Split(text)
		notice = &store.CancelNotice{Text: text, Encoding: string(enc), TTL: s.noticeTTL}
	}
	c, unsent, noticeMsg, err := s.store.CancelConfirmation(ctx, id, notice)
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
		s.queue.Remove(unsent.ID)
	}
	if noticeMsg != nil {
		s.queue.Enqueue(noticeMsg)
	}
	s.queue.Poke() // the customer's SIM may take their next confirmation now
	httpapi.WriteJSON(w, http.StatusOK, store.ConfirmationView(c))
}

func (s *Confirmations) list(w http.ResponseWriter, r *http.Request) {
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
	list, next, err := s.store.ListConfirmations(r.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		httpapi.WriteError(w, httpapi.BadField("cursor", "must be the next_cursor of a previous page"))
		return
	}
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, api.ConfirmationList{Confirmations: s.views(list...), NextCursor: next})
}

// views are confirmations as the API shows them: while queued,
// with what holds their SMS.
func (s *Confirmations) views(list ...*store.Confirmation) []api.Confirmation {
	var queued []string
	for _, c := range list {
		if c.State == payment.Queued {
			queued = append(queued, c.MessageID)
		}
	}
	var holds map[string]api.Hold
	if len(queued) > 0 {
		holds = s.queue.Holds(queued...)
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
