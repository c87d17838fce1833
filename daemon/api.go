package daemon

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gsmbridge/gsmbridge/daemon/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

// apiError is the body of every error answer:
// {"error":{"code":"...","message":"...","field":"..."}}.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
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
		}
	}
	writeJSON(w, ae.Status, map[string]*apiError{"error": ae})
}

// route is one API endpoint. The table is the single list of what the API
// offers: Handler registers it and a test compares it with openapi.json.
type route struct {
	method, pattern string
	handler         func(*Daemon, http.ResponseWriter, *http.Request)
	open            bool // served without a token
}

var routes = []route{
	{"GET", "/healthz", (*Daemon).healthz, true},
	{"GET", "/v1/openapi.json", (*Daemon).openAPI, false},
	{"POST", "/v1/messages", (*Daemon).postMessage, false},
	{"GET", "/v1/messages", (*Daemon).listMessages, false},
	{"GET", "/v1/messages/{id}", (*Daemon).getMessage, false},
	{"DELETE", "/v1/messages/{id}", (*Daemon).deleteMessage, false},
	{"GET", "/v1/modems", (*Daemon).listModems, false},
	{"GET", "/v1/modems/{id}", (*Daemon).getModem, false},
	{"GET", "/v1/sims", (*Daemon).listSIMs, false},
	{"GET", "/v1/inbox", (*Daemon).listInbox, false},
	{"GET", "/v1/inbox/{id}", (*Daemon).getInbox, false},
}

//go:embed openapi.json
var openAPIDoc []byte

// Handler is the daemon's whole HTTP surface.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes {
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rt.handler(d, w, r) })
		if !rt.open {
			h = d.authenticate(h)
		}
		mux.Handle(rt.method+" "+rt.pattern, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	return mux
}

func (d *Daemon) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (d *Daemon) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDoc)
}

// authenticate requires a bearer token on /v1/* once tokens are configured.
func (d *Daemon) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(d.cfg.Auth.Tokens) > 0 {
			token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || !d.cfg.Auth.Check(token) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gsmbridge"`)
				writeError(w, &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid bearer token is required"})
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, int64(d.cfg.LimitsHTTP.MaxBodyBytes))
		next.ServeHTTP(w, r)
	})
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

type messageRequest struct {
	To        string `json:"to"`
	Text      string `json:"text"`
	Modem     string `json:"modem,omitempty"`
	Operator  string `json:"operator,omitempty"`
	Report    bool   `json:"report,omitempty"`
	TTL       string `json:"ttl,omitempty"`
	Reference string `json:"reference,omitempty"`
}

func (d *Daemon) postMessage(w http.ResponseWriter, r *http.Request) {
	var req messageRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	n, err := d.validateMessage(req)
	if err != nil {
		writeError(w, err)
		return
	}
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if len(key) > 200 {
			writeError(w, badField("Idempotency-Key", "must be at most 200 characters"))
			return
		}
		fp, _ := json.Marshal(req)
		sum := sha256.Sum256(fp)
		n.IdempotencyKey, n.IdempotencyFingerprint = key, hex.EncodeToString(sum[:])
	}
	m, existed, err := d.store.Accept(r.Context(), n)
	if err != nil {
		writeError(w, err)
		return
	}
	if existed {
		writeJSON(w, http.StatusOK, m)
		return
	}
	d.sched.Enqueue(m)
	w.Header().Set("Location", "/v1/messages/"+m.ID)
	writeJSON(w, http.StatusAccepted, map[string]any{"id": m.ID, "state": m.State, "parts": m.Parts, "expires_at": m.ExpiresAt})
}

// validateMessage checks every field and normalises the request so that two
// spellings of one request compare equal for idempotency.
func (d *Daemon) validateMessage(req messageRequest) (store.NewMessage, error) {
	var n store.NewMessage
	if req.To == "" {
		return n, badField("to", "is required")
	}
	to, err := sms.Normalize(req.To)
	if err != nil {
		return n, badField("to", "%v", err)
	}
	if req.Text == "" {
		return n, badField("text", "is required")
	}
	if !utf8.ValidString(req.Text) {
		return n, badField("text", "must be valid UTF-8")
	}
	parts, enc := sms.Split(req.Text)
	if parts > 255 {
		return n, badField("text", "needs %d SMS parts; at most 255 fit one concatenated message", parts)
	}
	ttl := d.cfg.Send.DefaultTTL
	if req.TTL != "" {
		ttl, err = time.ParseDuration(req.TTL)
		if err != nil || ttl <= 0 {
			return n, badField("ttl", "must be a positive duration such as \"10m\" or \"2h\"")
		}
		if ttl > d.cfg.Send.MaxTTL {
			return n, badField("ttl", "must be at most %s", d.cfg.Send.MaxTTL)
		}
	}
	if req.Modem != "" && !d.hasModem(req.Modem) {
		return n, &apiError{Status: http.StatusUnprocessableEntity, Code: "unknown_modem", Field: "modem", Message: "modem: no modem " + strconv.Quote(req.Modem)}
	}
	if req.Operator != "" {
		if !isDigits(req.Operator) || len(req.Operator) < 5 || len(req.Operator) > 6 {
			return n, badField("operator", "must be a PLMN: MCC and MNC digits such as \"25001\"")
		}
		if !d.sched.ServesOperator(req.Operator) {
			return n, &apiError{Status: http.StatusUnprocessableEntity, Code: "no_sim_for_operator", Field: "operator", Message: "operator: no SIM of operator " + req.Operator + " is known"}
		}
	}
	if len(req.Reference) > 200 {
		return n, badField("reference", "must be at most 200 characters")
	}
	return store.NewMessage{To: to, Text: req.Text, Encoding: string(enc), Parts: parts, Reference: req.Reference,
		PinModem: req.Modem, PinOperator: req.Operator, Report: req.Report, TTL: ttl}, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func (d *Daemon) hasModem(id string) bool {
	for _, m := range d.Modems() {
		if m.ID == id {
			return true
		}
	}
	return false
}

func (d *Daemon) getMessage(w http.ResponseWriter, r *http.Request) {
	m, err := d.store.GetMessage(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (d *Daemon) deleteMessage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m, err := d.store.Cancel(r.Context(), id)
	if err != nil {
		if errors.Is(err, store.ErrConflict) && m != nil {
			writeJSON(w, http.StatusConflict, map[string]any{"error": apiError{Code: "conflict",
				Message: "message is " + string(m.State) + "; only queued messages can be cancelled"}, "message": m})
			return
		}
		writeError(w, err)
		return
	}
	d.sched.Remove(id)
	writeJSON(w, http.StatusOK, m)
}

func (d *Daemon) listMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.MessageFilter{State: store.MessageState(q.Get("state")), After: q.Get("cursor"), Limit: 100}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			writeError(w, badField("since", "must be an RFC 3339 time such as 2026-11-25T10:00:00Z"))
			return
		}
		f.Since = t
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, badField("limit", "must be a number from 1 to 1000"))
			return
		}
		f.Limit = n
	}
	list, next, err := d.store.ListMessages(r.Context(), f)
	if err != nil {
		writeError(w, err)
		return
	}
	if list == nil {
		list = []*store.Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": list, "next_cursor": next})
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
