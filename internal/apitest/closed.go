package apitest

import "github.com/getkin/kin-openapi/openapi3"

// closeObjects forbids properties an object schema does not list, wherever
// the document lists some and says nothing of others. Members of an allOf
// of several schemas stay open: each sees only its share of the object.
// Objects without listed properties (free-form data) stay open too.
func closeObjects(spec *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef, inAllOf bool)
	walk = func(ref *openapi3.SchemaRef, inAllOf bool) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil && !inAllOf {
			closed := false
			s.AdditionalProperties.Has = &closed
		}
		for _, p := range s.Properties {
			walk(p, false)
		}
		walk(s.Items, false)
		walk(s.AdditionalProperties.Schema, false)
		walk(s.Not, false)
		for _, m := range s.AllOf {
			walk(m, len(s.AllOf) > 1)
		}
		for _, m := range append(s.AnyOf, s.OneOf...) {
			walk(m, false)
		}
	}
	for _, ref := range spec.Components.Schemas {
		walk(ref, false)
	}
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			for _, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				for _, mt := range resp.Value.Content {
					walk(mt.Schema, false)
				}
			}
		}
	}
	for _, resp := range spec.Components.Responses {
		if resp.Value == nil {
			continue
		}
		for _, mt := range resp.Value.Content {
			walk(mt.Schema, false)
		}
	}
}
