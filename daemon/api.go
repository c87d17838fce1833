package daemon

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/store"
)

// apiError is the body of every error answer:
// {"error":{"code":"...","message":"...","field":"..."}}.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Scope   string `json:"scope,omitempty"` // the scope a token lacks (403 insufficient_scope)
}

func (e *apiError) Error() string { return e.Message }

func badField(field, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: err.Error()}
		switch {
		case errors.Is(err, store.ErrNotFound):
			ae.Status, ae.Code = http.StatusNotFound, "not_found"
		case errors.Is(err, store.ErrConflict):
			ae.Status, ae.Code = http.StatusConflict, "conflict"
		case errors.Is(err, store.ErrFull):
			// Nothing was accepted; the client may retry once space is
			// freed, and an operator must free it.
			ae.Status, ae.Code = http.StatusInsufficientStorage, "insufficient_storage"
		case errors.Is(err, store.ErrUnavailable):
			ae.Status, ae.Code = http.StatusServiceUnavailable, "store_unavailable"
		}
	}
	writeJSON(w, ae.Status, map[string]*apiError{"error": ae})
}

// route is one API endpoint. The table is the single list of what the API
// offers: Handler registers it and a test compares it with openapi.json.
type route struct {
	method, pattern string
	handler         func(*Daemon, http.ResponseWriter, *http.Request)
	scope           string // what a token needs to call it; scopePublic: no token
}

// allRoutes gathers every feature's routes.
func allRoutes() []route {
	return slices.Concat(coreRoutes, messageRoutes, modemRoutes, inboxRoutes, eventRoutes, ussdRoutes, confirmationRoutes, statusRoutes, metricsRoutes)
}

var modemRoutes = []route{
	{"GET", "/v1/modems", (*Daemon).listModems, scopeRead},
	{"GET", "/v1/modems/{id}", (*Daemon).getModem, scopeRead},
	{"GET", "/v1/sims", (*Daemon).listSIMs, scopeRead},
	{"POST", "/v1/sims/{iccid}/resume", (*Daemon).resumeSIM, scopeAdmin},
}

var coreRoutes = []route{
	{"GET", "/healthz", (*Daemon).healthz, scopePublic},
	{"GET", "/v1/openapi.json", (*Daemon).serveOpenAPI, scopeRead},
}

// Handler is the daemon's whole HTTP surface. The browser guards cover
// what Wrap adds too: serve --modemsim's simulated phones change state like the
// API does.
func (d *Daemon) Handler() http.Handler {
	h := d.browserGuard(d.routes())
	if d.observe != nil {
		h = d.observe(h)
	}
	return h
}

// routes serves allRoutes, each behind its token check.
func (d *Daemon) routes() http.Handler {
	mux := http.NewServeMux()
	methods := map[string]bool{}
	for _, rt := range allRoutes() {
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rt.handler(d, w, r) })
		if rt.scope != scopePublic {
			h = d.authenticate(rt.scope, h)
		}
		pattern := rt.pattern
		if pattern == "/" {
			// A pattern ending in / matches its whole subtree; the status
			// page is / alone, so other paths reach the catch-all below.
			pattern = "/{$}"
		}
		mux.Handle(rt.method+" "+pattern, h)
		methods[rt.method] = true
	}
	// The catch-all keeps every answer JSON; it also hides ServeMux's own
	// 405, so it works out which methods the path does have.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		allow := allowedMethods(mux, methods, r)
		if len(allow) == 0 {
			writeError(w, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: r.Method + " " + r.URL.Path + " is not served; it takes " + strings.Join(allow, ", ")})
	})
	if d.wrap != nil {
		return d.wrap(mux)
	}
	return mux
}

// allowedMethods lists the methods that some route serves at r's path,
// asking the mux itself so that wildcards match as they do when serving.
func allowedMethods(mux *http.ServeMux, methods map[string]bool, r *http.Request) []string {
	var allow []string
	for m := range methods {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead) // ServeMux answers HEAD with the GET handler
			}
		}
	}
	slices.Sort(allow)
	return allow
}

func (d *Daemon) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (d *Daemon) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(d.openAPI)
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit)}
		case errors.As(err, &typeErr):
			return badField(typeErr.Field, "must be a %s", typeErr.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badField(f, "unknown field")
		}
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_json", Message: "request body is not valid JSON: " + err.Error()}
	}
	if dec.More() {
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_json", Message: "request body has data after the JSON object"}
	}
	return nil
}

func (d *Daemon) listModems(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"modems": d.Modems()})
}

func (d *Daemon) getModem(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for _, m := range d.Modems() {
		if m.ID == id {
			writeJSON(w, http.StatusOK, m)
			return
		}
	}
	writeError(w, fmt.Errorf("modem %s: %w", id, store.ErrNotFound))
}

func (d *Daemon) listSIMs(w http.ResponseWriter, r *http.Request) {
	sims, err := d.store.SIMs(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	if sims == nil {
		sims = []store.SIM{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sims": sims})
}

// resumeSIM puts a suspect SIM back to work at the operator's word.
func (d *Daemon) resumeSIM(w http.ResponseWriter, r *http.Request) {
	iccid := r.PathValue("iccid")
	sim, err := d.store.ResumeSIM(r.Context(), iccid, "resumed through the API")
	if err != nil {
		writeError(w, err)
		return
	}
	for _, m := range d.Modems() {
		if m.ICCID == iccid {
			d.resumeLane(m.ID)
		}
	}
	writeJSON(w, http.StatusOK, sim)
}

// pageParams reads the since and limit of a listing (limit 1 to 1000,
// defaulting to def).
func pageParams(q url.Values, def int) (since time.Time, limit int, err error) {
	if s := q.Get("since"); s != "" {
		if since, err = time.Parse(time.RFC3339, s); err != nil {
			return since, 0, badField("since", "must be an RFC 3339 time such as 2026-11-25T10:00:00Z")
		}
	}
	limit, err = parseLimit(q.Get("limit"), def)
	return since, limit, err
}

// maxLongPoll is the longest a long poll holds its answer: well inside the
// server's write timeout, which would otherwise cut the answer off.
const maxLongPoll = serverWriteTimeout * 2 / 3

// parseWait reads a long poll's wait: a duration, 0 when absent, longer
// ones capped at maxLongPoll so a client asking for more still gets an
// answer rather than an error or a cut connection.
func parseWait(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	wait, err := time.ParseDuration(s)
	if err != nil || wait < 0 {
		return 0, badField("wait", "must be a duration such as \"30s\" (at most %s is waited)", maxLongPoll)
	}
	return min(wait, maxLongPoll), nil
}

// parseLimit reads a listing's limit: 1 to 1000, def when absent.
func parseLimit(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1000 {
		return 0, badField("limit", "must be a number from 1 to 1000")
	}
	return n, nil
}
