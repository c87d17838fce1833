package config

import (
	"fmt"
	"reflect"
	"strings"
)

// suggest returns a " ; did you mean ..." hint for an unknown key: a
// near-miss spelling of a key that belongs here, or else the place where a
// key of exactly that name does belong.
func suggest(t reflect.Type, key string) string {
	best, bestDist := "", -1
	for _, f := range reflect.VisibleFields(t) {
		name := yamlKey(f)
		if !f.IsExported() || name == "" {
			continue
		}
		dist := editDistance(strings.ToLower(key), name)
		if bestDist < 0 || dist < bestDist {
			best, bestDist = name, dist
		}
	}
	if bestDist >= 0 && bestDist <= typoAllowance(key) {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	var homes []string
	for _, p := range keyPaths(reflect.TypeFor[Config](), "") {
		if p == key || strings.HasSuffix(p, "."+key) {
			homes = append(homes, p)
		}
	}
	if len(homes) == 1 {
		return fmt.Sprintf("; did you mean %s? (it belongs in another section)", homes[0])
	}
	return ""
}

// typoAllowance is how many edits still look like a slip of the finger
// rather than a different word.
func typoAllowance(key string) int {
	switch n := len(key); {
	case n <= 2:
		return 1
	case n <= 8:
		return 2
	default:
		return 3
	}
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// keyPaths lists every key a configuration can hold, as dotted paths with
// "[]" for list entries and "*" for map keys: "modems[].baud",
// "sims.*.limits.per_day".
func keyPaths(t reflect.Type, prefix string) []string {
	var out []string
	for _, f := range reflect.VisibleFields(t) {
		name := yamlKey(f)
		if !f.IsExported() || name == "" {
			continue
		}
		p := join(prefix, name)
		out = append(out, p)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft != durationType:
			out = append(out, keyPaths(ft, p)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, keyPaths(ft.Elem(), p+"[]")...)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			out = append(out, keyPaths(ft.Elem(), p+".*")...)
		}
	}
	return out
}
