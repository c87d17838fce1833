package service

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/health"
)

// jsonFields lists the JSON names of t's fields and whether encoding/json
// always writes them (no omitempty or omitzero), embedded structs included.
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		embedded := f.Type
		if embedded.Kind() == reflect.Pointer {
			embedded = embedded.Elem()
		}
		if f.Anonymous && name == "" && embedded.Kind() == reflect.Struct {
			for k, v := range jsonFields(embedded) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero")
	}
	return out
}

// The schemas of the answers list exactly the fields the Go types write,
// and every field the type always writes is required, so the answer check
// (apitest) catches a field that goes missing as well as one that appears.
func TestOpenAPISchemasMatchTheTypes(t *testing.T) {
	types := map[string]any{
		"Modem": api.Modem{}, "SIM": api.SIM{}, "Message": api.Message{}, "Part": api.Part{}, "Hold": api.Hold{},
		"Confirmation": api.Confirmation{}, "Quote": api.Quote{}, "InboxMessage": api.InboxMessage{},
		"DeadLetter": api.DeadLetter{}, "Webhook": api.Webhook{}, "Storage": api.Storage{},
		"StatusSnapshot": health.StatusSnapshot{}, "StatusModem": health.StatusModem{}, "StatusSIM": health.StatusSIM{},
		"StatusLimits": health.StatusLimits{}, "StatusBalance": health.StatusBalance{}, "StatusMessage": health.StatusMessage{},
		"USSDAnswer": api.USSDAnswer{}, "USSDSession": api.USSDSession{}, "SIMBalance": api.BalanceView{},
		"Readiness": api.Readiness{}, "Event": api.Event{}, "BalanceReading": api.Balance{},
		"Host": api.Host{}, "StatusFleet": health.StatusFleet{}, "StatusHost": health.StatusHost{}, "HostList": api.HostList{}, "HostState": api.HostState{},
	}
	raw, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
				Required   []string                   `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for name, v := range types {
		schema, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("no schema %s", name)
			continue
		}
		typ := reflect.TypeOf(v)
		fields := jsonFields(typ)
		var always []string
		for f, alwaysWritten := range fields {
			if _, ok := schema.Properties[f]; !ok {
				t.Errorf("%s: %s writes %q, which the schema does not describe", name, typ, f)
			}
			if alwaysWritten {
				always = append(always, f)
				if !slices.Contains(schema.Required, f) {
					t.Errorf("%s: %s always writes %q, which the schema does not require", name, typ, f)
				}
			}
		}
		for p := range schema.Properties {
			if _, ok := fields[p]; !ok {
				t.Errorf("%s: the schema describes %q, which %s does not write", name, p, typ)
			}
		}
		for _, r := range schema.Required {
			if !fields[r] {
				t.Errorf("%s: the schema requires %q, which %s may leave out", name, r, typ)
			}
		}
		slices.Sort(always)
		t.Logf("REQUIRED %s %s", name, strings.Join(always, ","))
	}
}
