package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"
)

// DecodeText decodes a request body as Decode does, once every
// string in it is valid Unicode. encoding/json turns invalid UTF-8 and
// unpaired surrogate escapes ("\ud800") into U+FFFD without a word, so after
// decoding it is too late to tell: the customer would read "�" where the
// caller's text had something else.
func DecodeText(r *http.Request, v any) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	if !validJSONText(raw) {
		field := invalidField(raw)
		msg := "request body is not valid UTF-8"
		if field != "" {
			msg = field + ": must be valid UTF-8 (invalid bytes or an unpaired surrogate escape)"
		}
		return &Error{Status: http.StatusBadRequest, Code: "invalid_utf8", Field: field, Message: msg}
	}
	return decodeBody(raw, v)
}

// invalidField names the top-level field of a JSON object whose value holds
// the invalid text; "" when it is not in a value (a key, say) or the body is
// not an object.
func invalidField(raw []byte) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return ""
	}
	var bad []string
	for k, v := range obj {
		if !validJSONText(v) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return slices.Min(bad) // one answer for one body, whatever the map order
}

// validJSONText reports whether JSON text is valid UTF-8 and every \u escape
// of a surrogate is one half of a pair. It looks at escapes wherever they
// are; outside strings a backslash is invalid JSON anyway.
func validJSONText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if i+1 >= len(b) || b[i+1] != 'u' {
			i++ // a two-character escape such as \" or \\
			continue
		}
		r, ok := hexEscape(b, i)
		if !ok {
			i++ // malformed: the JSON decoder reports it
			continue
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			lo, ok := hexEscape(b, i+6)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return false
		default:
			i += 5
		}
	}
	return true
}

// hexEscape reads the \uXXXX escape at b[i:].
func hexEscape(b []byte, i int) (rune, bool) {
	if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
	return rune(v), err == nil
}
