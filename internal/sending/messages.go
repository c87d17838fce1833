package sending

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

func (s *Sending) post(w http.ResponseWriter, r *http.Request) {
	var req api.NewMessage
	if err := httpapi.DecodeText(r, &req); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	n, err := s.validate(r.Context(), req)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if len(key) > 200 {
			httpapi.WriteError(w, httpapi.BadField("Idempotency-Key", "must be at most 200 characters"))
			return
		}
		fp, _ := json.Marshal(req)
		sum := sha256.Sum256(fp)
		n.IdempotencyKey, n.IdempotencyFingerprint = key, hex.EncodeToString(sum[:])
	}
	if s.fleet != nil {
		s.fleet.Submit(w, r, n)
		return
	}
	m, existed, err := s.messages.Accept(r.Context(), n)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if existed {
		httpapi.WriteJSON(w, http.StatusOK, s.view(m))
		return
	}
	s.sched.Enqueue(m)
	w.Header().Set("Location", "/v1/messages/"+m.ID)
	httpapi.WriteJSON(w, http.StatusAccepted, api.Accepted{ID: m.ID, State: m.State, Parts: m.Parts, ExpiresAt: m.ExpiresAt})
}

// validate checks every field and normalises the request so that two
// spellings of one request compare equal for idempotency.
func (s *Sending) validate(ctx context.Context, req api.NewMessage) (store.NewMessage, error) {
	var n store.NewMessage
	if req.To == "" {
		return n, httpapi.BadField("to", "is required")
	}
	to, err := sms.Normalize(req.To)
	if err != nil {
		return n, httpapi.BadField("to", "%v", err)
	}
	if req.Text == "" {
		return n, httpapi.BadField("text", "is required")
	}
	parts, enc := sms.Split(req.Text)
	if err := s.checkParts(parts); err != nil {
		return n, err
	}
	ttl := s.cfg.DefaultTTL
	if req.TTL != "" {
		ttl, err = time.ParseDuration(req.TTL)
		if err != nil || ttl <= 0 {
			return n, httpapi.BadField("ttl", "must be a positive duration such as \"10m\" or \"2h\"")
		}
		if ttl > s.cfg.MaxTTL {
			return n, httpapi.BadField("ttl", "must be at most %s", s.cfg.MaxTTL)
		}
	}
	if req.Modem != "" {
		if err := s.checkModemPin(ctx, req.Modem); err != nil {
			return n, err
		}
	}
	if req.Operator != "" {
		if !isDigits(req.Operator) || len(req.Operator) < 5 || len(req.Operator) > 6 {
			return n, httpapi.BadField("operator", "must be a PLMN: MCC and MNC digits such as \"25001\"")
		}
		if !s.sched.ServesOperator(req.Operator) {
			if err := s.pinnedElsewhere(ctx, Pin{Operator: req.Operator}, &httpapi.Error{Status: http.StatusUnprocessableEntity, Code: "no_sim_for_operator", Field: "operator", Message: "operator: no SIM of operator " + req.Operator + " is known"}); err != nil {
				return n, err
			}
		}
	}
	if len(req.Reference) > 200 {
		return n, httpapi.BadField("reference", "must be at most 200 characters")
	}
	if store.ReservedReference(req.Reference) {
		return n, httpapi.BadField("reference", `must not start with "confirmation:" or "cancel-notice:": gsmbridge marks its own messages so`)
	}
	return store.NewMessage{To: to, Text: req.Text, Encoding: string(enc), Parts: parts, Reference: req.Reference,
		PinModem: req.Modem, PinOperator: req.Operator, Report: req.Report, TTL: ttl}, nil
}

// pinnedElsewhere answers for a pin this host does not serve: in a fleet,
// another live host may (docs/fleet.md), and the message goes to it;
// otherwise the pin is refused as refused says.
func (s *Sending) pinnedElsewhere(ctx context.Context, p Pin, refused error) error {
	if s.fleet == nil {
		return refused
	}
	hosts, err := s.fleet.ServedBy(ctx, p)
	switch {
	case err != nil:
		return err
	case len(hosts) == 0:
		return refused
	}
	return nil
}

// checkModemPin refuses a pin to a modem no host runs and, in a fleet, one
// whose id names modems on more than one host: the work would go out
// through whichever of them pulled it first. Modem ids are IMEIs, which
// clone modems are known to repeat, or a modem's USB path ("usb:1-1.3"),
// which each host has its own of. A fleet is asked even when this host
// runs the modem, for that reason; modem pins are rare next to operator
// pins and none.
func (s *Sending) checkModemPin(ctx context.Context, id string) error {
	local := s.modems.Has(id)
	unknown := &httpapi.Error{Status: http.StatusUnprocessableEntity, Code: "unknown_modem", Field: "modem", Message: "modem: no modem " + strconv.Quote(id)}
	if s.fleet == nil {
		if local {
			return nil
		}
		return unknown
	}
	hosts, err := s.fleet.ServedBy(ctx, Pin{Modem: id})
	if err != nil {
		return err
	}
	where := "hosts " + strings.Join(hosts, ", ")
	if len(hosts) == 1 {
		where = "host " + hosts[0]
	}
	if local {
		where = "this host and on " + where
	}
	switch n := len(hosts); {
	case n == 0 && !local:
		return unknown
	case n == 0 || n == 1 && !local:
		return nil
	}
	return &httpapi.Error{Status: http.StatusUnprocessableEntity, Code: "ambiguous_modem", Field: "modem",
		Message: fmt.Sprintf("modem: %q names a modem on %s (a repeated IMEI, or a USB path each host has), and the fleet cannot tell which is meant; pin an operator instead", id, where)}
}

// checkParts refuses a text longer than send.max_parts: a text pasted by
// mistake would otherwise be accepted and hold its SIM's send limits for
// hours.
func (s *Sending) checkParts(parts int) error {
	if limit := s.cfg.MaxParts; parts > limit {
		return &httpapi.Error{Status: http.StatusBadRequest, Code: "too_many_parts", Field: "text",
			Message: fmt.Sprintf("text: needs %d SMS parts; send.max_parts allows %d", parts, limit)}
	}
	return nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Get answers GET /v1/messages/{id}; the fleet also asks it for the reads
// other hosts forward here.
func (s *Sending) Get(w http.ResponseWriter, r *http.Request) {
	m, err := s.messages.GetMessage(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) && s.fleet != nil && s.fleet.Answer(w, r, r.PathValue("id")) {
		return
	}
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, s.view(m))
}

// Delete answers DELETE /v1/messages/{id}; the fleet also asks it for the
// cancels other hosts forward here.
func (s *Sending) Delete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	// A cancel goes through once asked for, whether or not its client
	// waits: in a fleet the message may have just been taken to be
	// cancelled here.
	ctx := context.WithoutCancel(r.Context())
	if s.fleet != nil {
		// Another host may hold the message, or hold it now while this
		// host has a copy it took before a release: that host cancels it.
		_, err := s.messages.GetMessage(ctx, id)
		if err == nil && !s.fleet.MayEnd(ctx, id) {
			s.sched.Remove(id)
			err = store.ErrNotFound // the copy was another host's: dropped
		}
		if errors.Is(err, store.ErrNotFound) && s.fleet.Cancel(w, r, id) {
			return
		}
	}
	m, err := s.messages.Cancel(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrConflict) && m != nil {
			httpapi.WriteJSON(w, http.StatusConflict, map[string]any{"error": httpapi.Error{Code: "conflict",
				Message: "message is " + string(m.State) + "; only queued messages can be cancelled"}, "message": store.MessageView(m)})
			return
		}
		httpapi.WriteError(w, err)
		return
	}
	s.sched.Remove(id)
	httpapi.WriteJSON(w, http.StatusOK, store.MessageView(m))
}

func (s *Sending) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.MessageFilter{State: store.MessageState(q.Get("state")), After: q.Get("cursor"), Limit: 100}
	if f.State != "" && !slices.Contains(api.MessageStates, f.State) {
		httpapi.WriteError(w, httpapi.BadField("state", "must be one of %s", joinStates(api.MessageStates)))
		return
	}
	since, limit, err := httpapi.PageParams(q, f.Limit)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	f.Since, f.Limit = since, limit
	list, next, err := s.messages.ListMessages(r.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		httpapi.WriteError(w, httpapi.BadField("cursor", "must be the next_cursor of a previous page"))
		return
	}
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, api.MessageList{Messages: s.views(list), NextCursor: next})
}

func joinStates(states []api.MessageState) string {
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

func (s *Sending) view(m *store.Message) api.Message { return s.views([]*store.Message{m})[0] }

// views asks the scheduler about every queued message of a page at once.
func (s *Sending) views(list []*store.Message) []api.Message {
	var queued []string
	for _, m := range list {
		s.markOverdue(m)
		if m.State == store.Queued {
			queued = append(queued, m.ID)
		}
	}
	var holds map[string]api.Hold
	if len(queued) > 0 {
		holds = s.sched.Holds(queued...)
	}
	out := make([]api.Message, len(list))
	for i, m := range list {
		out[i] = store.MessageView(m)
		if h, ok := holds[m.ID]; ok {
			out[i].Hold = &h
		}
	}
	return out
}

// markOverdue flags a sent message whose delivery report should have come by
// now, so a caller can tell "not yet" from "probably never".
func (s *Sending) markOverdue(m *store.Message) {
	m.ReportOverdue = m.Report && (m.State == store.Sent || m.State == store.Unknown) &&
		!m.SentAt.IsZero() && s.now().Sub(m.SentAt) > s.cfg.ReportWait
}
