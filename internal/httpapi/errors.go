package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Error is the body of every error answer:
// {"error":{"code":"...","message":"...","field":"..."}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Scope   string `json:"scope,omitempty"` // the scope a token lacks (403 insufficient_scope)
}

func (e *Error) Error() string { return e.Message }

// BadField is the 400 of a request field that breaks a rule; the message
// starts with the field's name.
func BadField(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// WriteJSON answers v as JSON; HTML characters stay as they are, since
// texts of SMS are shown to people, not embedded in pages.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// WriteError answers err: an *Error as it says, the store's sentinel
// errors (and failures of its storage, read or written) with their status,
// anything else as a 500.
func WriteError(w http.ResponseWriter, err error) {
	var ae *Error
	if !errors.As(err, &ae) {
		err = store.Classify(err)
		ae = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: err.Error()}
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
	WriteJSON(w, ae.Status, map[string]*Error{"error": ae})
}
