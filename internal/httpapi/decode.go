package httpapi

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
)

// Decode reads a request's JSON body, which must be one object, into v.
// Before decoding, one pass over the body refuses what encoding/json would
// take without a word and with a meaning the caller did not intend: a key
// given twice (the last one would win), and a key spelled in another letter
// case than the API's (encoding/json matches names case-insensitively). It
// also refuses fields v does not have, at every depth. A wrong type and data
// after the object are refused too; every error names the field where there
// is one.
func Decode(r *http.Request, v any) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	return decodeBody(raw, v)
}

// decodeBody is Decode once the body is read.
func decodeBody(raw []byte, v any) error {
	walker := json.NewDecoder(bytes.NewReader(raw))
	walker.UseNumber() // a number too big for float64 is for the decode to judge
	if err := walkBody(walker, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // what the walk cannot see (a field behind a pointer to a slice)
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	// More would miss a stray } or ]: it reports no more values before a
	// closing bracket, where Token sees invalid JSON.
	if _, err := dec.Token(); err != io.EOF {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "request body has data after the JSON object"}
	}
	return nil
}

// bodyError turns an error of reading or decoding the body into the answer.
func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit)}
	case errors.As(err, &typeErr):
		return BadField(typeErr.Field, "must be a %s", typeErr.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return BadField(f, "unknown field")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "request body ends before its JSON object does"}
	}
	return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "request body is not valid JSON: " + err.Error()}
}

// walkBody checks the body's one value, an object, against t.
func walkBody(dec *json.Decoder, t reflect.Type) error {
	tok, err := dec.Token()
	switch {
	case err == io.EOF:
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "request body is empty; it must be a JSON object ({} at least)"}
	case err != nil:
		return bodyError(err)
	case tok != json.Delim('{'):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "request body must be a JSON object"}
	}
	return walkObject(dec, t, "", 1)
}

// maxDepth bounds how deep a body may nest: the API's bodies are flat, and
// the walk keeps each level's path, so a 64 KiB body nesting thousands of
// levels held some 136 MB.
const maxDepth = 32

var errTooDeep = &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: fmt.Sprintf("request body nests deeper than %d levels", maxDepth)}

// walkValue checks the value that starts with tok against t; t is nil where
// any value goes.
func walkValue(dec *json.Decoder, tok json.Token, t reflect.Type, path string, depth int) error {
	if (tok == json.Delim('{') || tok == json.Delim('[')) && depth >= maxDepth {
		return errTooDeep
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(dec, t, path, depth+1)
	case json.Delim('['):
		elem := t
		if elem != nil && (elem.Kind() == reflect.Slice || elem.Kind() == reflect.Array) {
			elem = elem.Elem()
		} else {
			elem = nil
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return bodyError(err)
			}
			if err := walkValue(dec, tok, elem, path, depth+1); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ]
		if err != nil {
			return bodyError(err)
		}
	}
	return nil
}

// walkObject checks the keys of an object whose { was read: each once, and,
// when t is a struct, each one of its fields spelled as its json tag says.
func walkObject(dec *json.Decoder, t reflect.Type, path string, depth int) error {
	t = plain(t)
	var fields map[string]reflect.Type
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Struct:
		fields = jsonFields(t)
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bodyError(err)
		}
		key, _ := tok.(string) // the decoder gives an object nothing else
		field := fieldPath(path, key)
		if seen[key] {
			return BadField(field, "appears more than once")
		}
		seen[key] = true
		sub := elem
		if fields != nil {
			ft, ok := fields[key]
			if !ok {
				for name := range fields {
					if strings.EqualFold(name, key) {
						return BadField(field, "unknown field; the API spells it %q", fieldPath(path, name))
					}
				}
				return BadField(field, "unknown field")
			}
			sub = ft
		}
		if tok, err = dec.Token(); err != nil {
			return bodyError(err)
		}
		if err := walkValue(dec, tok, sub, field, depth); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return bodyError(err)
	}
	return nil
}

func fieldPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// plain is t without pointers, or nil when t reads its own JSON and so
// takes keys this walk cannot know.
func plain(t reflect.Type) reflect.Type {
	for t != nil {
		if t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) ||
			t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
			return nil
		}
		if t.Kind() != reflect.Pointer {
			return t
		}
		t = t.Elem()
	}
	return nil
}

// jsonFields maps the names encoding/json gives a struct's fields to their
// types, with the fields of embedded structs promoted as it promotes them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	var embedded []reflect.Type
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			if et := plain(f.Type); et != nil && et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	// An outer field hides an embedded one of the same name.
	for _, et := range embedded {
		for name, ft := range jsonFields(et) {
			if _, ok := fields[name]; !ok {
				fields[name] = ft
			}
		}
	}
	return fields
}
