package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type decodeMeta struct {
	Ref string `json:"ref,omitempty"`
}

type decodeItem struct {
	N int `json:"n"`
}

type decodeTarget struct {
	decodeMeta
	To     string            `json:"to"`
	Text   string            `json:"text"`
	Opts   *struct{ A int }  `json:"opts,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	Items  []decodeItem      `json:"items,omitempty"`
	More   *[]decodeItem     `json:"more,omitempty"`
	Secret string            `json:"-"`
}

// Decode refuses what encoding/json would take with another meaning than
// the caller's (a repeated key, a key in another case, data after the
// object) and names the field; what is valid decodes as it did.
func TestDecodeRefusesAmbiguousBodies(t *testing.T) {
	cases := []struct {
		name, body string
		// want: "" decodes; otherwise the error's code, field and a part
		// of its message.
		code, field, message string
		to                   string
	}{
		{"plain", `{"to":"+79161110001","text":"hi"}`, "", "", "", "+79161110001"},
		{"promoted, nested, map and list fields", `{"ref":"r","opts":{"A":1},"labels":{"x":"1","X":"2"},"items":[{"n":1},{"n":2}]}`, "", "", "", ""},
		{"repeated key", `{"to":"+79161110001","text":"hi","to":"+79031110003"}`, "invalid_field", "to", "more than once", ""},
		{"repeated key, escaped", `{"to":"+79161110001","t\u006f":"+79031110003"}`, "invalid_field", "to", "more than once", ""},
		{"repeated key in a nested object", `{"opts":{"A":1,"A":2}}`, "invalid_field", "opts.A", "more than once", ""},
		{"repeated key in a map", `{"labels":{"x":"1","x":"2"}}`, "invalid_field", "labels.x", "more than once", ""},
		{"repeated key in a list's object", `{"items":[{"n":1},{"n":1,"n":2}]}`, "invalid_field", "items.n", "more than once", ""},
		{"key in capitals", `{"TO":"+79161110001","text":"hi"}`, "invalid_field", "TO", `spells it "to"`, ""},
		{"key in mixed case", `{"to":"+7","Text":"hi"}`, "invalid_field", "Text", `spells it "text"`, ""},
		{"nested key in another case", `{"opts":{"a":1}}`, "invalid_field", "opts.a", `spells it "opts.A"`, ""},
		{"key in a list's object in another case", `{"items":[{"N":1}]}`, "invalid_field", "items.N", `spells it "items.n"`, ""},
		{"unknown field", `{"to":"+7","colour":"red"}`, "invalid_field", "colour", "unknown field", ""},
		{"unknown nested field", `{"opts":{"B":1}}`, "invalid_field", "opts.B", "unknown field", ""},
		{"a field the API does not take", `{"Secret":"x"}`, "invalid_field", "Secret", "unknown field", ""},
		{"wrong type", `{"to":1}`, "invalid_field", "to", "must be a string", ""},
		{"stray closing brace", `{"to":"+7"}}`, "invalid_json", "", "data after the JSON object", ""},
		{"stray closing bracket", `{"to":"+7"}]`, "invalid_json", "", "data after the JSON object", ""},
		{"a second object", `{"to":"+7"} {"to":"+8"}`, "invalid_json", "", "data after the JSON object", ""},
		{"an array", `[1]`, "invalid_json", "", "request body must be a JSON object", ""},
		{"a string", `"to"`, "invalid_json", "", "request body must be a JSON object", ""},
		{"null", `null`, "invalid_json", "", "request body must be a JSON object", ""},
		{"empty", ``, "invalid_json", "", "request body is empty", ""},
		{"cut short", `{"to":"+7"`, "invalid_json", "", "ends before", ""},
		{"not JSON", `{to:1}`, "invalid_json", "", "not valid JSON", ""},
		{"unknown field behind a pointer to a list", `{"more":[{"n":1,"zz":3}]}`, "invalid_field", "zz", "unknown field", ""},
		{"nested past the limit", `{"to":` + strings.Repeat(`{"a":`, maxDepth) + `1` + strings.Repeat(`}`, maxDepth+1), "invalid_json", "", "deeper than", ""},
		{"a list nested past the limit", `{"items":` + strings.Repeat(`[`, maxDepth) + strings.Repeat(`]`, maxDepth) + `}`, "invalid_json", "", "deeper than", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v decodeTarget
			err := Decode(httptest.NewRequest("POST", "/", strings.NewReader(c.body)), &v)
			if c.code == "" {
				if err != nil || v.To != c.to {
					t.Fatalf("%v, to %q; want it decoded with to %q", err, v.To, c.to)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%v is not an *Error", err)
			}
			if e.Status != http.StatusBadRequest || e.Code != c.code || e.Field != c.field || !strings.Contains(e.Message, c.message) {
				t.Fatalf("%d %s field %q %q, want 400 %s field %q with %q", e.Status, e.Code, e.Field, e.Message, c.code, c.field, c.message)
			}
		})
	}
}

func TestDecodeKeepsTheBodyCap(t *testing.T) {
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"text":"`+strings.Repeat("a", 100)+`"}`))
	r.Body = http.MaxBytesReader(rec, r.Body, 16)
	var v struct{ Text string }
	if e, ok := Decode(r, &v).(*Error); !ok || e.Status != http.StatusRequestEntityTooLarge || e.Code != "body_too_large" {
		t.Fatalf("%v, want 413 body_too_large", e)
	}
}

// A body nesting as deep as its size allows costs what a flat one does:
// the walk stops at the limit instead of keeping a path per level.
func TestADeeplyNestedBodyIsRefusedCheaply(t *testing.T) {
	const levels = 8192 // 64 KiB of {"aaa":
	body := `{"to":` + strings.Repeat(`{"aaa":`, levels) + `1` + strings.Repeat(`}`, levels+1)
	var v decodeTarget
	allocs := testing.AllocsPerRun(3, func() {
		if err := Decode(httptest.NewRequest("POST", "/", strings.NewReader(body)), &v); err == nil {
			t.Fatal("decoded")
		}
	})
	if allocs > 1000 {
		t.Fatalf("%.0f allocations to refuse it", allocs)
	}
}
