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

// buildOpenAPI merges the fragments: base.json gives the frame, every other
// fragment adds paths and component schemas; a path or schema defined twice
// is an error, so two features cannot silently shadow each other.
func buildOpenAPI() ([]byte, error) {
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
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, name := range names {
		if name == "openapi/base.json" {
			continue
		}
		raw, err := openAPIFragments.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var frag struct {
			Paths      map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
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
		for s, v := range frag.Components.Schemas {
			if _, dup := schemas[s]; dup {
				return nil, fmt.Errorf("%s: schema %s is already defined", name, s)
			}
			schemas[s] = v
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}
