package config

import (
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// pair is one key and its value in a mapping, after merge keys (<<: *x)
// have been expanded.
type pair struct {
	key, value *yaml.Node
}

// pairs lists a mapping's entries, reporting keys that are not plain names
// and keys given twice. Entries merged in with "<<" come after the mapping's
// own and only where it does not set the key itself, as YAML specifies.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	if d.listing[n] {
		d.fail(n.Line, path, "<< merges a mapping into itself")
		return nil
	}
	d.listing[n] = true
	defer delete(d.listing, n)
	var own, merged []pair
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergeSources(val, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k.Line, path, "keys must be plain names, not %s", kindName(k))
			continue
		}
		if line, dup := first[k.Value]; dup {
			d.fail(k.Line, join(path, k.Value), "given twice; the first is on line %d", line)
			continue
		}
		first[k.Value] = k.Line
		own = append(own, pair{k, val})
	}
	for _, p := range merged {
		if _, set := first[p.key.Value]; !set {
			first[p.key.Value] = p.key.Line
			own = append(own, p)
		}
	}
	return own
}

// spend counts one more value visited and reports false once the file has
// expanded past maxNodes.
func (d *decoder) spend(n *yaml.Node, path string) bool {
	d.budget--
	if d.budget == -1 {
		d.fail(n.Line, path, "the file expands to more than %d values; are aliases (*name) nested too deep?", maxNodes)
	}
	return d.budget >= 0
}

func (d *decoder) mergeSources(n *yaml.Node, path string) []pair {
	if !d.spend(n, path) {
		return nil
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		return d.pairs(n, path)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range n.Content {
			out = append(out, d.mergeSources(item, path)...)
		}
		return out
	}
	d.fail(n.Line, path, "<< must merge a mapping, not %s", kindName(n))
	return nil
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		what := "must be"
		if path == "" {
			what = "the file must be"
		}
		d.fail(n.Line, path, "%s a mapping (key: value lines), not %s", what, kindName(n))
		return
	}
	t := v.Type()
	for _, p := range d.pairs(n, path) {
		key := p.key.Value
		f, ok := fieldByKey(t, key)
		if !ok {
			d.fail(p.key.Line, join(path, key), "unknown key%s", suggest(t, key))
			continue
		}
		child := join(path, key)
		d.origins[child] = origin{d.file, p.key.Line}
		d.decode(p.value, v.FieldByIndex(f.Index), child, f.Tag)
	}
}

func (d *decoder) list(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n.Line, path, "must be a list, not %s", kindName(n))
		return
	}
	if len(n.Content) == 0 {
		v.SetZero()
		return
	}
	out := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, item := range n.Content {
		child := path + "[" + strconv.Itoa(i) + "]"
		d.origins[child] = origin{d.file, item.Line}
		elem := elementDefault(v.Type().Elem())
		d.decode(item, elem, child, "")
		out = reflect.Append(out, elem)
	}
	v.Set(out)
}

func (d *decoder) dictionary(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n.Line, path, "must be a mapping (key: value lines), not %s", kindName(n))
		return
	}
	ps := d.pairs(n, path)
	if len(ps) == 0 {
		v.SetZero()
		return
	}
	out := reflect.MakeMapWithSize(v.Type(), len(ps))
	for _, p := range ps {
		child := path + "[" + strconv.Quote(p.key.Value) + "]"
		d.origins[child] = origin{d.file, p.key.Line}
		elem := elementDefault(v.Type().Elem())
		d.decode(p.value, elem, child, "")
		out.SetMapIndex(reflect.ValueOf(p.key.Value), elem)
	}
	v.Set(out)
}

// elementDefault is what a new list entry or map value starts from.
func elementDefault(t reflect.Type) reflect.Value {
	v := reflect.New(t).Elem()
	switch t {
	case reflect.TypeFor[Modem]():
		v.Set(reflect.ValueOf(defaultModem()))
	case reflect.TypeFor[Webhook]():
		v.Set(reflect.ValueOf(defaultWebhook()))
	}
	return v
}

// join appends a key to a path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func yamlKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for _, f := range reflect.VisibleFields(t) {
		if f.IsExported() && yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
