package events

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Routes serve the event log and the webhooks' state.
func (e *Events) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/v1/events", Scope: config.ScopeRead, Handler: e.listEvents},
		{Method: "GET", Pattern: "/v1/webhooks", Scope: config.ScopeRead, Handler: e.listWebhooks},
		{Method: "GET", Pattern: "/v1/webhooks/dead-letters", Scope: config.ScopeAdmin, Handler: e.listDeadLetters},
		{Method: "POST", Pattern: "/v1/webhooks/dead-letters/{id}/retry", Scope: config.ScopeAdmin, Handler: e.retryDeadLetter},
	}
}

// eventTypePattern is what the configuration accepts in webhooks[].events.
var eventTypePattern = regexp.MustCompile(`^([a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?|\*)$`)

func parseEventTypes(values []string) (store.EventTypes, error) {
	var out store.EventTypes
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if !eventTypePattern.MatchString(p) {
				return nil, httpapi.BadField("type", "must be an event type such as message.sent or a prefix such as message.*")
			}
			if err := api.CheckEventType(p); err != nil {
				return nil, httpapi.BadField("type", "%v", err)
			}
			out = append(out, p)
		}
	}
	return out, nil
}

func parseAfter(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, httpapi.BadField("after", "must be an event id (a number of 0 or more)")
	}
	return n, nil
}

// listEvents pages through the log. next_after is the cursor for the next
// call: past the last event shown, or past the end of what was scanned when
// the filter skipped the rest, so a follower never rescans.
func (e *Events) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err := parseAfter(q.Get("after"))
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	limit, err := httpapi.ParseLimit(q.Get("limit"), 100)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	types, err := parseEventTypes(q["type"])
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	wait, err := httpapi.ParseWait(q.Get("wait"))
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if wait > 0 {
		release, ok := e.longPolls.Take()
		if !ok {
			httpapi.WriteError(w, httpapi.ErrTooManyLongPolls)
			return
		}
		defer release()
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		// Taken before the read, so growth in between wakes the wait.
		upto, grew := e.eventLog.LogEnd().Changed()
		list, err := e.eventLog.Events(r.Context(), store.EventFilter{After: after, Upto: upto, Types: types, Limit: limit})
		if err != nil {
			httpapi.WriteError(w, err)
			return
		}
		next := after
		if len(list) == limit {
			next = list[len(list)-1].ID
		} else if upto > after {
			next = upto
		}
		if len(list) > 0 || wait == 0 {
			page := api.EventPage{Events: make([]api.Event, len(list)), NextAfter: next, More: len(list) == limit}
			for i := range list {
				page.Events[i] = store.EventView(&list[i])
			}
			httpapi.WriteJSON(w, http.StatusOK, page)
			return
		}
		after = next
		select {
		case <-r.Context().Done():
			return
		case <-deadline.C:
			wait = 0
		case <-grew:
		}
	}
}

func (e *Events) listWebhooks(w http.ResponseWriter, r *http.Request) {
	out := []api.Webhook{}
	for i, cfg := range e.webhooks {
		c, err := e.deliveries.GetWebhookCursor(r.Context(), cfg.URL)
		if err != nil {
			httpapi.WriteError(w, err)
			return
		}
		backlog, err := e.eventLog.CountEvents(r.Context(), c.Cursor, store.EventTypes(cfg.Events))
		if err != nil {
			httpapi.WriteError(w, err)
			return
		}
		dead, err := e.deliveries.CountDeadLetters(r.Context(), cfg.URL)
		if err != nil {
			httpapi.WriteError(w, err)
			return
		}
		events := cfg.Events
		if events == nil {
			events = []string{}
		}
		st := api.Webhook{Index: i, URL: displayURL(cfg.URL), Events: events, Cursor: c.Cursor, Backlog: backlog, DeadLetters: dead}
		if c.Attempts > 0 {
			st.HeadEvent, st.Attempts, st.FirstTry, st.NextAttempt, st.LastError = c.HeadEvent, c.Attempts, c.FirstTry, c.NextAt, c.LastError
		}
		out = append(out, st)
	}
	httpapi.WriteJSON(w, http.StatusOK, api.WebhookList{Webhooks: out})
}

// viewDeadLetter adds which endpoint a dead letter belongs to.
func (e *Events) viewDeadLetter(l store.DeadLetter) api.DeadLetter {
	v := store.DeadLetterView(&l)
	v.URL = displayURL(l.Endpoint)
	if i := e.webhookIndex(l.Endpoint); i >= 0 {
		v.Webhook = &i
	}
	return v
}

func (e *Events) webhookIndex(url string) int {
	for i, cfg := range e.webhooks {
		if cfg.URL == url {
			return i
		}
	}
	return -1
}

func (e *Events) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err := parseAfter(q.Get("after"))
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	limit, err := httpapi.ParseLimit(q.Get("limit"), 100)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	endpoint := ""
	if s := q.Get("webhook"); s != "" {
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= len(e.webhooks) {
			httpapi.WriteError(w, httpapi.BadField("webhook", "must be the index of a configured webhook (0 to %d)", len(e.webhooks)-1))
			return
		}
		endpoint = e.webhooks[i].URL
	}
	list, err := e.deliveries.DeadLetters(r.Context(), endpoint, after, limit)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	out := make([]api.DeadLetter, 0, len(list))
	for _, l := range list {
		out = append(out, e.viewDeadLetter(l))
	}
	httpapi.WriteJSON(w, http.StatusOK, api.DeadLetterList{DeadLetters: out})
}

// retryDeadLetter re-delivers one dead letter now, once, outside the
// endpoint's stream: the stream keeps its order and the operator sees the
// outcome in the answer. A delivered letter is removed; a failed one stays
// with the new error.
func (e *Events) retryDeadLetter(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no dead letter " + strconv.Quote(r.PathValue("id"))})
		return
	}
	l, err := e.deliveries.GetDeadLetter(r.Context(), id)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	i := e.webhookIndex(l.Endpoint)
	if i < 0 {
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusConflict, Code: "webhook_not_configured",
			Message: "the dead letter's webhook is no longer configured, so there is no secret to sign it with"})
		return
	}
	ev, err := e.eventLog.GetEvent(r.Context(), l.EventID)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	rt := webhookTransport()
	defer rt.CloseIdleConnections()
	postErr := newWebhookEndpoint(e.webhooks[i], rt).post(r.Context(), ev, e.now())
	lastError := ""
	if postErr != nil {
		lastError = postErr.Error()
	}
	if err := e.deliveries.DeadLetterRetried(r.Context(), id, postErr == nil, lastError); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if postErr != nil {
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusBadGateway, Code: "webhook_failed", Message: "re-delivery failed: " + lastError})
		return
	}
	l.Attempts++
	httpapi.WriteJSON(w, http.StatusOK, api.Retried{Delivered: true, DeadLetter: e.viewDeadLetter(l)})
}
