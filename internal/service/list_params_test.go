package service

import (
	"net/http"
	"testing"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
)

// A listing's filter that cannot match what the daemon keeps is a 400
// naming the parameter, not an empty page the caller would take for "none".
func TestListFiltersNameTheirBadParameter(t *testing.T) {
	h := startHarness(t)
	for range 3 {
		if code := h.do("POST", "/v1/messages", api.NewMessage{To: "+79161234567", Text: "hi"}, nil); code != http.StatusAccepted {
			t.Fatalf("POST: %d", code)
		}
	}
	var page api.MessageList
	if code := h.do("GET", "/v1/messages?state=queued&limit=2", nil, &page); code != http.StatusOK || len(page.Messages) != 2 || page.NextCursor == "" {
		t.Fatalf("first page: %d %d messages, cursor %q", code, len(page.Messages), page.NextCursor)
	}
	if code := h.do("GET", "/v1/messages?cursor="+page.NextCursor, nil, &page); code != http.StatusOK || len(page.Messages) != 1 {
		t.Fatalf("the next page: %d %d messages", code, len(page.Messages))
	}
	for _, c := range []struct{ path, field string }{
		{"/v1/messages?state=bogus", "state"},
		{"/v1/messages?state=QUEUED", "state"},
		{"/v1/messages?cursor=zzz", "cursor"},
		{"/v1/messages?cursor=msg_%20", "cursor"},
		{"/v1/confirmations?state=bogus", "state"},
		{"/v1/confirmations?cursor=zzz", "cursor"},
		{"/v1/inbox?cursor=zzz", "cursor"},
		{"/v1/events?type=bogus", "type"},
		{"/v1/webhooks/dead-letters?webhook=zzz", "webhook"},
	} {
		var e struct{ Error httpapi.Error }
		if code := h.do("GET", c.path, nil, &e); code != http.StatusBadRequest || e.Error.Field != c.field {
			t.Errorf("%s: %d %+v, want 400 on field %s", c.path, code, e.Error, c.field)
		}
	}
}
