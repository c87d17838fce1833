package daemon

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
)

// The OpenAPI document is kept as one fragment per feature (openapi/*.json),
// next to the handlers it describes, and merged when served.
//
//go:embed openapi/*.json
var openAPIFragments embed.FS

type openAPIDoc map[string]any

// OpenAPI returns the API document the daemon serves. It merges the
// fragments: base.json gives the frame and the
// shared components (the error responses every feature refers to), every
// other fragment adds paths and components of any kind; a path or component
// defined twice is an error, so two features cannot silently shadow each
// other.
func OpenAPI() ([]byte, error) {
	names, err := fs.Glob(openAPIFragments, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var doc openAPIDoc
	raw, err := openAPIFragments.ReadFile("openapi/base.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("openapi/base.json: %w", err)
	}
	paths := doc["paths"].(map[string]any)
	components := doc["components"].(map[string]any)
	for _, name := range names {
		if name == "openapi/base.json" {
			continue
		}
		raw, err := openAPIFragments.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var frag struct {
			Paths      map[string]any            `json:"paths"`
			Components map[string]map[string]any `json:"components"`
		}
		if err := json.Unmarshal(raw, &frag); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for p, v := range frag.Paths {
			if _, dup := paths[p]; dup {
				return nil, fmt.Errorf("%s: path %s is already described", name, p)
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
					return nil, fmt.Errorf("%s: %s %s is already defined", name, kind, c)
				}
				have[c] = v
			}
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}
