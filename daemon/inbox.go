package daemon

import (
	"net/http"
	"strconv"

	"github.com/gsmbridge/gsmbridge/internal/store"
)

var inboxRoutes = []route{
	{"GET", "/v1/inbox", (*Daemon).listInbox, scopeRead},
	{"GET", "/v1/inbox/{id}", (*Daemon).getInbox, scopeRead},
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
	since, limit, err := pageParams(q, 100)
	if err != nil {
		writeError(w, err)
		return
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
