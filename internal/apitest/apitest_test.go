package apitest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/apitest"
	"github.com/gsmbridge/gsmbridge/internal/service"
)

// The checker passes answers the document allows and catches each kind of
// drift, checked against the document the daemon serves.
func TestCheckerCatchesDrift(t *testing.T) {
	doc, err := service.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	c, err := apitest.NewChecker(doc)
	if err != nil {
		t.Fatal(err)
	}
	const modem = `{"id":"860000000000001","port":"/dev/ttyUSB0","state":"ready","state_since":"2026-11-25T10:00:00Z",` +
		`"operator":{"plmn":"25001"},"signal_bars":3,"storage_used":0,"storage_total":30,"queue_depth":0,` +
		`"sent_last_hour":0,"sent_last_day":0,"sent":1,"received":0,"send_failures":0,"reconnects":0,"resets":{}}`
	const errBody = `{"error":{"code":"not_found","message":"modem x: not found"}}`
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	cases := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		drift              string // "" when the answer is allowed
	}{
		{"a documented answer", "GET", "/v1/modems", 200, jsonCT, `{"modems":[` + modem + `]}`, ""},
		{"an error the operation documents", "GET", "/v1/modems/x", 404, jsonCT, errBody, ""},
		{"a 405 with Allow", "PUT", "/v1/modems", 405, http.Header{"Content-Type": {"application/json"}, "Allow": {"GET, HEAD"}}, errBody, ""},
		{"the status page", "GET", "/", 200, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, "<html></html>", ""},
		{"a required field missing", "GET", "/v1/modems", 200, jsonCT, `{"modems":[` + strings.Replace(modem, `"state":"ready",`, "", 1) + `]}`, `"state"`},
		{"a wrong type", "GET", "/v1/modems", 200, jsonCT, `{"modems":[` + strings.Replace(modem, `"sent":1`, `"sent":"1"`, 1) + `]}`, "sent"},
		{"null where the schema says array", "GET", "/v1/modems", 200, jsonCT, `{"modems":null}`, "modems"},
		{"a field the document does not describe", "GET", "/v1/modems", 200, jsonCT, `{"modems":[` + strings.Replace(modem, `"resets":{}`, `"resets":{},"mood":"good"`, 1) + `]}`, "mood"},
		{"a value outside the enum", "GET", "/v1/modems", 200, jsonCT, `{"modems":[` + strings.Replace(modem, `"state":"ready"`, `"state":"asleep"`, 1) + `]}`, "state"},
		{"a time that is not RFC 3339", "GET", "/v1/modems", 200, jsonCT, `{"modems":[` + strings.Replace(modem, `2026-11-25T10:00:00Z`, `25.11.2026`, 1) + `]}`, "state_since"},
		{"an undocumented status", "GET", "/v1/modems", 418, jsonCT, errBody, "status is not supported"},
		{"an undocumented content type", "GET", "/v1/modems", 200, http.Header{"Content-Type": {"text/plain"}}, "modems", "text/plain"},
		{"an error that is not the error body", "GET", "/v1/modems/x", 404, jsonCT, `{"message":"no"}`, "error"},
		{"a body where the document has none", "GET", "/healthz", 200, http.Header{"Content-Type": {"text/plain"}}, "ok", "text/plain"},
		{"a path the document lacks answered 200", "GET", "/v1/nothing", 200, jsonCT, `{}`, "no such operation"},
		{"a 404 that is not JSON", "GET", "/v1/nothing", 404, http.Header{"Content-Type": {"text/plain"}}, "404 page not found", "text/plain"},
		{"a 405 without Allow", "PUT", "/v1/modems", 405, jsonCT, errBody, "Allow"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Check(httptest.NewRequest(tc.method, tc.path, nil), tc.status, tc.header, []byte(tc.body))
			switch {
			case tc.drift == "" && err != nil:
				t.Fatalf("allowed answer refused: %v", err)
			case tc.drift != "" && err == nil:
				t.Fatal("drift not caught")
			case tc.drift != "" && !strings.Contains(err.Error(), tc.drift):
				t.Fatalf("caught, but the error does not name %q: %v", tc.drift, err)
			}
		})
	}
}

// Wrapped round a handler, the checker reports a drifting answer and lets
// the answer through unchanged.
func TestWrapReportsAndPassesThrough(t *testing.T) {
	doc, err := service.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	c, err := apitest.NewChecker(doc)
	if err != nil {
		t.Fatal(err)
	}
	var reported []error
	h := c.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"modems":null}`))
	}), func(err error) { reported = append(reported, err) })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/modems", nil))
	if rec.Code != 200 || rec.Body.String() != `{"modems":null}` {
		t.Errorf("answer changed on the way: %d %s", rec.Code, rec.Body)
	}
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "GET /v1/modems answered 200") {
		t.Errorf("reported %v, want one drift naming the request", reported)
	}
}
