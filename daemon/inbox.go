package daemon

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gsmbridge/gsmbridge/daemon/store"
)

var inboxRoutes = []route{
	{"GET", "/v1/inbox", (*Daemon).listInbox, false},
	{"GET", "/v1/inbox/{id}", (*Daemon).getInbox, false},
}

func (d *Daemon) listInbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after int64
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			writeError(w, badField("cursor", "must be the next_cursor of a previous page"))
			return
		}
		after = n
	}
	var since time.Time
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			writeError(w, badField("since", "must be an RFC 3339 time such as 2026-11-25T10:00:00Z"))
			return
		}
		since = t
	}
	limit := 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, badField("limit", "must be a number from 1 to 1000"))
			return
		}
		limit = n
	}
	list, err := d.store.Inbox(r.Context(), after, since, limit+1)
	if err != nil {
		writeError(w, err)
		return
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	if list == nil {
		list = []*store.InboxMessage{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": list, "next_cursor": next})
}

func (d *Daemon) getInbox(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no inbox message " + strconv.Quote(r.PathValue("id"))})
		return
	}
	m, err := d.store.GetInbox(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}
