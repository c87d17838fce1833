package service

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/httpapi"
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

// Each fragment refers only to its own components and the shared ones of
// httpapi's base: a feature's document must not lean on another feature's
// schema, or moving one would break the other.
func TestFragmentsReferOnlyToTheirOwnOrSharedComponents(t *testing.T) {
	// Hold is messages.json's and confirmations.json uses it: it is to
	// become a shared schema of the api package (plan §4).
	known := map[string]bool{"internal/confirm/openapi.json -> #/components/schemas/Hold": true}
	defined := func(raw []byte) map[string]bool {
		var doc struct {
			Components map[string]map[string]json.RawMessage `json:"components"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for kind, defs := range doc.Components {
			for name := range defs {
				out["#/components/"+kind+"/"+name] = true
			}
		}
		return out
	}
	base, err := httpapi.Merge()
	if err != nil {
		t.Fatal(err)
	}
	shared := defined(base)
	frags, err := openAPIFragmentList()
	if err != nil {
		t.Fatal(err)
	}
	ref := regexp.MustCompile(`"\$ref":\s*"([^"]+)"`)
	for _, f := range frags {
		own := defined(f.JSON)
		for _, m := range ref.FindAllSubmatch(f.JSON, -1) {
			r := string(m[1])
			if own[r] || shared[r] || known[f.Name+" -> "+r] {
				continue
			}
			t.Errorf("%s refers to %s, defined in neither it nor httpapi's base", f.Name, r)
		}
	}
}
