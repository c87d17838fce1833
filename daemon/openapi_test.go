package daemon

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The OpenAPI document and the route table must describe the same API.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	raw, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, rt := range bareDaemon(t).api.Routes() {
		served[rt.Method+" "+rt.Pattern] = true
	}
	var missing, extra []string
	for r := range served {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !served[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes the document does not describe: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("documented routes the daemon does not serve: %v", extra)
	}
}

// What the document says of each operation matches how the route table
// serves it: a route behind the token documents the bearer scheme and the
// shared 401, an open route says it needs no token, and every operation has
// its own operationId.
func TestOpenAPIOperationsMatchTheirRoutes(t *testing.T) {
	type operation struct {
		OperationID string                     `json:"operationId"`
		Security    *[]map[string][]string     `json:"security"`
		Responses   map[string]json.RawMessage `json:"responses"`
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	raw, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, rt := range bareDaemon(t).api.Routes() {
		name := rt.Method + " " + rt.Pattern
		var op operation
		if err := json.Unmarshal(doc.Paths[rt.Pattern][strings.ToLower(rt.Method)], &op); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if op.OperationID == "" {
			t.Errorf("%s: no operationId", name)
		} else if other, dup := ids[op.OperationID]; dup {
			t.Errorf("%s: operationId %s is also %s's", name, op.OperationID, other)
		}
		ids[op.OperationID] = name
		anonymous := false // a requirement without schemes lets a caller in with none
		if op.Security != nil {
			anonymous = len(*op.Security) == 0 || slices.ContainsFunc(*op.Security, func(r map[string][]string) bool { return len(r) == 0 })
		}
		var unauthorized struct {
			Ref string `json:"$ref"`
		}
		json.Unmarshal(op.Responses["401"], &unauthorized)
		open := rt.Open
		switch {
		case open && !anonymous:
			t.Errorf("%s is served without a token but the document asks for one", name)
		case !open && anonymous:
			t.Errorf("%s needs a token but the document says it does not", name)
		case !open && unauthorized.Ref != "#/components/responses/Unauthorized":
			t.Errorf("%s needs a token: its 401 must be $ref #/components/responses/Unauthorized, not %s", name, op.Responses["401"])
		}
	}
}
