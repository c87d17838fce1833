package ussdsvc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// Session purposes: an interactive session through the API, or a balance
// check. Both hold the modem, so neither runs during the other.
const (
	purposeAPI     = "api"
	purposeBalance = "balance"
)

// reap closes interactive sessions past their cap with AT+CUSD=2 and
// keeps the lanes' session holds in line with the store: a modem's lane is
// held while it has a live API session (and the hold outlives a lane that
// closes and opens again under it), released once the session is not live.
// Deriving the holds from the store at each look undoes a hold set from a
// list read just before a session closed, which would otherwise hold the
// lane for good.
//
// It looks every tick while an API session lives or a lane is held, and
// otherwise sleeps until one is claimed (wake).
func (s *sessions) reap(ctx context.Context, tick time.Duration) {
	t := time.NewTimer(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.claimed:
		}
		if s.lookAtUSSD(ctx) {
			t.Reset(tick)
		}
	}
}

// wakeReaper tells the reaper a session was claimed.
func (s *sessions) wakeReaper() {
	select {
	case s.claimed <- struct{}{}:
	default:
	}
}

// lookAtUSSD closes API sessions past their cap and holds or releases
// lanes; it reports whether there is something to look at again.
func (s *sessions) lookAtUSSD(ctx context.Context) (again bool) {
	// Held sessions are noted before the store is read: a session
	// claimed after the read is held after this note, and only noted
	// sessions are released.
	heldBefore := s.lanes.HeldSessions()
	live, err := s.ussdStore.LiveUSSDSessions(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("list USSD sessions", "err", err)
		}
		return true
	}
	inSession := map[string]string{} // session id -> modem id
	for _, u := range live {
		if u.Purpose != purposeAPI {
			continue
		}
		// Looked at again even when closed now: a close that failed
		// is retried at the next look.
		again = true
		if u.State == store.USSDOpen && !s.now().Before(u.ExpiresAt) {
			s.closeSession(ctx, u, store.USSDOpen, "timeout")
			continue
		}
		inSession[u.ID] = u.ModemID
	}
	for _, id := range heldBefore {
		if _, ok := inSession[id]; !ok {
			s.lanes.ReleaseSession(id)
		}
	}
	for id, modemID := range inSession {
		s.lanes.HoldForSession(modemID, id)
	}
	return again || len(heldBefore) > 0
}

// closeSession ends a live session: the record first (so no answer slips in),
// then the network session unless the network ended it itself ("done"),
// then the session's hold on the lane is released.
func (s *sessions) closeSession(ctx context.Context, u store.USSDSession, from, reason string) (store.USSDSession, error) {
	closed, err := s.ussdStore.MoveUSSD(ctx, u.ID, from, store.USSDClosed, reason)
	if err != nil {
		return u, err
	}
	if reason != "done" {
		ectx, cancel := context.WithTimeout(ctx, config.USSDEndTime)
		if err := s.modems.Do(ectx, u.ModemID, func(ctx context.Context, m *gsm.Modem) error { return m.EndUSSD(ctx) }); err != nil {
			s.log.Warn("end USSD session on the modem", "modem", u.ModemID, "session", u.ID, "err", err)
		}
		cancel()
	}
	if u.Purpose == purposeAPI {
		// Only API sessions hold the lane; a balance check runs whole
		// inside one Do, which sends nothing meanwhile anyway.
		s.lanes.ReleaseSession(u.ID)
	}
	s.log.Info("USSD session closed", "modem", u.ModemID, "session", u.ID, "reason", reason)
	return closed, nil
}

// exchangeTimeout bounds one exchange through the owner: the wait for the
// network plus the commands around it.
func (s *sessions) exchangeTimeout() time.Duration {
	return s.o.USSD.ReplyTimeout + config.USSDCommandTime
}

// ussdOnModem runs one exchange on a modem's owner.
func (s *sessions) ussdOnModem(ctx context.Context, st api.Modem, text string) (ussd.Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, s.exchangeTimeout())
	defer cancel()
	var reply ussd.Reply
	err := s.modems.Do(ctx, st.ID, func(ctx context.Context, m *gsm.Modem) error {
		var err error
		reply, err = s.runUSSD(ctx, m, st, text)
		return err
	})
	return reply, err
}

// runUSSD picks the modem's dialect, runs the exchange and remembers the
// dialect a real reply showed, per model and firmware.
func (s *sessions) runUSSD(ctx context.Context, m *gsm.Modem, st api.Modem, text string) (ussd.Reply, error) {
	key := strings.ToLower(strings.Join(strings.Fields(st.Model+" "+st.Revision), " "))
	learned, err := s.ussdStore.USSDDialect(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return ussd.Reply{}, err
	}
	configured := s.configuredDialect(st)
	charset := ""
	if configured == "" && learned == "" {
		charset = m.Charset(ctx)
	}
	dialect, source := gsm.PickUSSDDialect(configured, learned, st.Manufacturer, charset)
	began := s.now()
	reply, err := m.USSD(ctx, text, gsm.USSDOptions{Dialect: dialect, ReplyTimeout: s.o.USSD.ReplyTimeout})
	s.metrics.request(ussdResult(reply, err), s.now().Sub(began))
	if err != nil || source == gsm.DialectFromConfig {
		return reply, err
	}
	if seen, ok := ussd.Learn(dialect, reply); ok && (source == gsm.DialectFromIdentity || seen != dialect) {
		if err := s.ussdStore.SaveUSSDDialect(context.WithoutCancel(ctx), key, string(seen)); err != nil {
			s.log.Error("remember USSD dialect", "model", key, "err", err)
		} else {
			s.log.Info("learned USSD dialect", "model", key, "dialect", seen, "was", dialect)
		}
	}
	return reply, nil
}

// configuredDialect is the modem entry's ussd_dialect, else ussd.dialects
// by model and firmware.
func (s *sessions) configuredDialect(st api.Modem) string {
	for _, m := range s.o.Modems {
		if m.Port == st.Port && m.USSDDialect != "" {
			return m.USSDDialect
		}
	}
	if v, ok := s.o.USSD.Dialect(st.Model, st.Revision); ok {
		return v
	}
	return ""
}

func (s *sessions) modemStatus(id string) (api.Modem, error) {
	if m, ok := s.modems.Snapshot(id); ok {
		return m, nil
	}
	return api.Modem{}, fmt.Errorf("modem %s: %w", id, ErrNoModem)
}

func (s *sessions) startUSSD(w http.ResponseWriter, r *http.Request) {
	var req api.USSDRequest
	if err := httpapi.Decode(r, &req); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if err := ussd.ValidCode(req.Code); err != nil {
		httpapi.WriteError(w, httpapi.BadField("code", "%v", err))
		return
	}
	st, err := s.modemStatus(r.PathValue("id"))
	if err != nil {
		writeUSSDError(w, err)
		return
	}
	if !s.operators.Allowed(st.IMSI, req.Code, s.o.USSD.Allow) {
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusForbidden, Code: "ussd_not_allowed",
			Message: "this code is not an operator's balance or own-number code and not in ussd.allow", Field: "code"})
		return
	}
	u, err := s.ussdStore.ClaimUSSD(r.Context(), store.USSDSession{ID: store.NewID("ussd_", s.now()), ModemID: st.ID,
		ICCID: st.ICCID, Purpose: purposeAPI, ExpiresAt: s.now().Add(s.o.USSD.SessionTimeout)})
	if err != nil {
		writeUSSDError(w, err)
		return
	}
	s.lanes.HoldForSession(st.ID, u.ID)
	s.wakeReaper()
	s.exchangeInSession(w, r, st, u, req.Code)
}

func (s *sessions) replyUSSD(w http.ResponseWriter, r *http.Request) {
	var req api.USSDReply
	if err := httpapi.Decode(r, &req); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if err := ussd.ValidCode(req.Text); err != nil {
		httpapi.WriteError(w, httpapi.BadField("text", "%v", err))
		return
	}
	// A menu answer is a choice ("1", "00") or a lone navigation key ("*",
	// "#"). Anything longer with * or # is what a modem sends as a new
	// request when the network has dropped the menu meanwhile, so it must
	// be a code this caller could have started with.
	if len(req.Text) > 1 && strings.ContainsAny(req.Text, "*#") && !s.ussdAllowedInSession(r.Context(), r.PathValue("session_id"), req.Text) {
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusForbidden, Code: "ussd_not_allowed",
			Message: "a menu answer with * or # is sent as a new request if the menu has ended, so it must be an allowed code", Field: "text"})
		return
	}
	u, err := s.ussdStore.MoveUSSD(r.Context(), r.PathValue("session_id"), store.USSDOpen, store.USSDRunning, "")
	if err != nil {
		writeUSSDError(w, err)
		return
	}
	st, err := s.modemStatus(u.ModemID)
	if err != nil {
		s.closeSession(context.WithoutCancel(r.Context()), u, store.USSDRunning, "modem gone")
		writeUSSDError(w, err)
		return
	}
	s.exchangeInSession(w, r, st, u, req.Text)
}

// ussdAllowedInSession reports whether code is allowed on the SIM of the
// session's modem; an unknown session allows only the configured codes.
func (s *sessions) ussdAllowedInSession(ctx context.Context, sessionID, code string) bool {
	imsi := ""
	if u, err := s.ussdStore.GetUSSDSession(ctx, sessionID); err == nil {
		if st, err := s.modemStatus(u.ModemID); err == nil {
			imsi = st.IMSI
		}
	}
	return s.operators.Allowed(imsi, code, s.o.USSD.Allow)
}

// exchangeInSession runs one exchange of a running session and leaves the
// session open when the network asks for more, closed otherwise.
func (s *sessions) exchangeInSession(w http.ResponseWriter, r *http.Request, st api.Modem, u store.USSDSession, text string) {
	reply, err := s.ussdOnModem(r.Context(), st, text)
	// The session's fate is decided even when the client has gone.
	ctx := context.WithoutCancel(r.Context())
	if err != nil {
		s.log.Info("USSD exchange failed", "modem", st.ID, "session", u.ID, "err", err)
		s.closeSession(ctx, u, store.USSDRunning, "failed")
		writeUSSDError(w, err)
		return
	}
	ans := api.USSDAnswer{SessionID: u.ID, Modem: st.ID, Status: reply.Status.String(), Text: reply.Text, Raw: reply.Raw,
		DCS: reply.DCS, Decoding: reply.Decoding}
	if reply.Status == ussd.StatusActionRequired && s.now().Before(u.ExpiresAt) {
		if _, err := s.ussdStore.MoveUSSD(ctx, u.ID, store.USSDRunning, store.USSDOpen, ""); err != nil {
			writeUSSDError(w, err)
			return
		}
		ans.Open, ans.ExpiresAt = true, u.ExpiresAt
		httpapi.WriteJSON(w, http.StatusOK, ans)
		return
	}
	reason := "done"
	if reply.Status == ussd.StatusActionRequired {
		// The cap passed while the network answered: the menu is
		// abandoned, not left hanging.
		reason = "timeout"
	}
	s.closeSession(ctx, u, store.USSDRunning, reason)
	httpapi.WriteJSON(w, http.StatusOK, ans)
}

func (s *sessions) endUSSD(w http.ResponseWriter, r *http.Request) {
	u, err := s.ussdStore.GetUSSDSession(r.Context(), r.PathValue("session_id"))
	if err != nil {
		writeUSSDError(w, err)
		return
	}
	switch u.State {
	case store.USSDClosed:
		httpapi.WriteJSON(w, http.StatusOK, store.USSDSessionView(&u))
		return
	case store.USSDRunning:
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusConflict, Code: "ussd_running",
			Message: "a request of this session is waiting for the network; end it after the answer"})
		return
	}
	closed, err := s.closeSession(context.WithoutCancel(r.Context()), u, store.USSDOpen, "ended by client")
	if err != nil {
		writeUSSDError(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, store.USSDSessionView(&closed))
}

// writeUSSDError answers with the modem's own codes kept: a busy modem names
// the session holding it, a network failure its +CUSD or +CME code and any
// text that came with it.
func writeUSSDError(w http.ResponseWriter, err error) {
	var busy *store.USSDBusyError
	var ue *gsm.USSDError
	f := gsm.Classify(err)
	switch {
	case errors.As(err, &busy):
		httpapi.WriteJSON(w, http.StatusConflict, map[string]any{"error": map[string]any{
			"code": "modem_busy", "message": busy.Error(),
			"session_id": busy.Holder.ID, "since": busy.Holder.StartedAt, "purpose": busy.Holder.Purpose}})
	case errors.As(err, &ue):
		status := http.StatusBadGateway
		if ue.Kind == gsm.USSDNoAnswer {
			status = http.StatusGatewayTimeout
		}
		httpapi.WriteJSON(w, status, map[string]any{"error": map[string]any{
			"code": "ussd_" + ue.Kind, "message": ue.Error(), "modem_code": ue.Code, "meaning": ue.Meaning,
			"text": ue.Text, "raw": ue.Raw}})
	case errors.Is(err, ErrNoModem):
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()})
	case errors.Is(err, ErrModemNotReady):
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusServiceUnavailable, Code: "modem_not_ready", Message: err.Error()})
	case errors.Is(err, store.ErrConflict):
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusConflict, Code: "ussd_session_not_open", Message: err.Error()})
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, gsm.ErrTimeout):
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusGatewayTimeout, Code: "timeout", Message: err.Error()})
	case f.ModemFault:
		// The message of a +CMS or +CME error already ends in its code.
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusBadGateway, Code: "modem_error", Message: f.Message})
	default:
		httpapi.WriteError(w, err)
	}
}

// ussdResult names an exchange's outcome from the metrics' fixed set.
func ussdResult(reply ussd.Reply, err error) string {
	var ue *gsm.USSDError
	switch {
	case err == nil && reply.Status == ussd.StatusActionRequired:
		return "menu"
	case err == nil:
		return "ok"
	case errors.As(err, &ue):
		switch ue.Kind {
		case "terminated", "not_supported", "network_timeout":
			return ue.Kind
		case "no_answer":
			return "timeout"
		}
		return "error"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error"
}
