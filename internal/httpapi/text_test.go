package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Invalid text is refused before encoding/json could turn it into U+FFFD,
// naming the field that holds it; what is valid decodes as Decode would.
func TestDecodeTextRefusesInvalidUnicode(t *testing.T) {
	cases := []struct {
		name, body  string
		code, field string
	}{
		{"Cyrillic", `{"text":"Код 1"}`, "", ""},
		{"a surrogate pair escape", `{"text":"\ud83d\ude00"}`, "", ""},
		{"other escapes", `{"text":"\" \\ \n \u0041"}`, "", ""},
		{"an invalid byte", "{\"text\":\"pay \xff now\"}", "invalid_utf8", "text"},
		{"cut Cyrillic", "{\"to\":\"1\",\"text\":\"\xd0\"}", "invalid_utf8", "text"},
		{"an unpaired high surrogate", `{"text":"x\ud800y"}`, "invalid_utf8", "text"},
		{"a lone low surrogate", `{"text":"\udc00"}`, "invalid_utf8", "text"},
		{"in a key: no field to name", "{\"te\xffxt\":\"a\"}", "invalid_utf8", ""},
		{"an unknown field", `{"txt":"a"}`, "invalid_field", "txt"},
	}
	for _, c := range cases {
		var v struct {
			To   string `json:"to"`
			Text string `json:"text"`
		}
		err := DecodeText(httptest.NewRequest("POST", "/", strings.NewReader(c.body)), &v)
		var code, field string
		if e, ok := err.(*Error); ok {
			code, field = e.Code, e.Field
		} else if err != nil {
			t.Errorf("%s: %v is not an *Error", c.name, err)
			continue
		}
		if code != c.code || field != c.field {
			t.Errorf("%s: %q field %q (%v), want %q field %q", c.name, code, field, err, c.code, c.field)
		}
	}
}

// A body over the cap is still a 413, though DecodeText reads it first.
func TestDecodeTextKeepsTheBodyCap(t *testing.T) {
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"text":"`+strings.Repeat("a", 100)+`"}`))
	r.Body = http.MaxBytesReader(rec, r.Body, 16)
	var v struct{ Text string }
	if e, ok := DecodeText(r, &v).(*Error); !ok || e.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("%v, want 413 body_too_large", e)
	}
}

func TestValidJSONText(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{"text":"plain"}`, true},
		{`{"text":"Платёж"}`, true},
		{`{"text":"\ud83d\ude00 pair"}`, true},
		{`{"text":"\\ud800 is escaped text, not an escape"}`, true},
		{`{"text":"\u00e9\n\"q\""}`, true},
		{"{\"text\":\"\xff\"}", false},
		{`{"text":"\ud83d"}`, false},
		{`{"text":"\ud83d\u0041"}`, false},
		{`{"text":"\ude00"}`, false},
		{`{"text":"\uD800\uDC00"}`, true},
	}
	for _, tc := range tests {
		if got := validJSONText([]byte(tc.in)); got != tc.want {
			t.Errorf("validJSONText(%s) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestInvalidTextIsNamedByItsField(t *testing.T) {
	if f := invalidField([]byte("{\"to\":\"+7\",\"reference\":\"\xff\",\"text\":\"ok\"}")); f != "reference" {
		t.Fatalf("field %q, want reference", f)
	}
}
