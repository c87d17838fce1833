package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// base is the frame of the API document: info, security and the
// components every feature refers to (the error responses).
//
//go:embed openapi/base.json
var base []byte

// Fragment is one feature's part of the OpenAPI document: paths and
// components of any kind.
type Fragment struct {
	Name string // names the fragment in errors
	JSON []byte
}

// Merge lays the fragments over the base document. A path or component
// defined twice is an error, so two features cannot silently shadow each
// other.
func Merge(fragments ...Fragment) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("openapi/base.json: %w", err)
	}
	paths := doc["paths"].(map[string]any)
	components := doc["components"].(map[string]any)
	for _, f := range fragments {
		var frag struct {
			Paths      map[string]any            `json:"paths"`
			Components map[string]map[string]any `json:"components"`
		}
		if err := json.Unmarshal(f.JSON, &frag); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		for p, v := range frag.Paths {
			if _, dup := paths[p]; dup {
				return nil, fmt.Errorf("%s: path %s is already described", f.Name, p)
			}
			paths[p] = v
		}
		for kind, defs := range frag.Components {
			have, _ := components[kind].(map[string]any)
			if have == nil {
				have = map[string]any{}
				components[kind] = have
			}
			for c, v := range defs {
				if _, dup := have[c]; dup {
					return nil, fmt.Errorf("%s: %s %s is already defined", f.Name, kind, c)
				}
				have[c] = v
			}
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}
