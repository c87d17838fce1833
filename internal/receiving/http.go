package receiving

import (
	_ "embed"
	"net/http"
	"strconv"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

//go:embed openapi.json
var fragment []byte

// OpenAPI is the part of the API document that describes Routes.
func OpenAPI() httpapi.Fragment {
	return httpapi.Fragment{Name: "internal/receiving/openapi.json", JSON: fragment}
}

// Routes are the endpoints receiving serves.
func (rc *Receiving) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/v1/inbox", Scope: config.ScopeRead, Handler: rc.listInbox},
		{Method: "GET", Pattern: "/v1/inbox/{id}", Scope: config.ScopeRead, Handler: rc.getInbox},
	}
}

func (rc *Receiving) listInbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after int64
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			httpapi.WriteError(w, httpapi.BadField("cursor", "must be the next_cursor of a previous page"))
			return
		}
		after = n
	}
	since, limit, err := httpapi.PageParams(q, 100)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	list, err := rc.inbox.Inbox(r.Context(), after, since, limit+1)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	out := api.InboxList{Messages: make([]api.InboxMessage, len(list)), NextCursor: next}
	for i, m := range list {
		out.Messages[i] = store.InboxView(m)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (rc *Receiving) getInbox(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no inbox message " + strconv.Quote(r.PathValue("id"))})
		return
	}
	m, err := rc.inbox.GetInbox(r.Context(), id)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, store.InboxView(m))
}
