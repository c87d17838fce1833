package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds the values one file may expand to. A dozen lines of YAML
// aliases can expand to billions of values; a real configuration has a few
// hundred.
const maxNodes = 100_000

// origin is where a key's value came from.
type origin struct {
	file string
	line int
}

// Load reads and parses the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(path, data)
}

// Parse parses a configuration file's contents; name is used in error
// messages. Keys the file leaves out keep their defaults. The result has
// passed Validate; on error it is nil and the error holds every problem.
func Parse(name string, data []byte) (*Config, error) {
	d := &decoder{file: name, origins: map[string]origin{}, budget: maxNodes, listing: map[*yaml.Node]bool{}}
	c := Default()
	root, err := d.document(data)
	if err != nil {
		return nil, err
	}
	if root != nil {
		d.decode(root, reflect.ValueOf(c).Elem(), "", "")
	}
	if d.budget < 0 {
		// Whatever else is wrong, the file is not a configuration someone
		// wrote by hand; more messages would only bury this one.
		return nil, joinErrors(d.errs)
	}
	c.origins = d.origins
	failed := map[string]bool{}
	for _, e := range d.errs {
		failed[e.Path] = true
	}
	errs := d.errs
	for _, e := range c.validate() {
		// A value that failed to decode kept its default; what Validate
		// says about it would only distract.
		if !failed[e.Path] {
			errs = append(errs, e)
		}
	}
	if err := joinErrors(errs); err != nil {
		return nil, err
	}
	return c, nil
}

var (
	yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	// yaml.v3 numbers the lines of parser errors (as opposed to scanner
	// errors) from 0; these are the parser's messages.
	yamlParserProblem = regexp.MustCompile(`^(did not find expected (node content|key|',' or '[\]}]'|'-' indicator|<[a-z -]+>)|found (duplicate|incompatible|undefined) )`)
)

// document returns the root mapping of the only YAML document in data, or
// nil for a file with nothing in it.
func (d *decoder) document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, d.syntaxError(err, data)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &Error{File: d.file, Line: next.Line, Msg: `a second YAML document ("---"); the configuration is one document`}
	case !errors.Is(err, io.EOF):
		return nil, d.syntaxError(err, data)
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, nil
	}
	return doc.Content[0], nil
}

func (d *decoder) syntaxError(err error, data []byte) error {
	e := &Error{File: d.file, Msg: strings.TrimPrefix(err.Error(), "yaml: "), Err: err}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
		if yamlParserProblem.MatchString(e.Msg) {
			e.Line++
		}
		// At the end of the file the parser points one past the last line.
		e.Line = min(e.Line, lineCount(data))
	}
	return e
}

// lineCount is the number of lines in data as YAML counts them: a line
// break is LF, CR LF or a lone CR, and yaml.v3 also takes NEL, LS and PS; a
// break at the very end starts no new line.
func lineCount(data []byte) int {
	text := strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n").Replace(string(data))
	return strings.Count(strings.TrimSuffix(text, "\n"), "\n") + 1
}

// decoder walks the YAML node tree next to the Config it fills, so that each
// value keeps its line and each problem can be reported without stopping.
type decoder struct {
	file    string
	origins map[string]origin
	errs    []*Error
	budget  int
	// listing holds the mappings whose entries are being listed, to catch
	// a mapping that merges itself in.
	listing map[*yaml.Node]bool
}

func (d *decoder) fail(line int, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	tokenType    = reflect.TypeFor[Token]()
)

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// decode stores n into v. tag is the struct tag of the field v is, if any.
// A null value (a key with nothing after it) keeps the default.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, tag reflect.StructTag) {
	if !d.spend(n, path) {
		return
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if isNull(n) {
		return
	}
	if v.Type() == tokenType && n.Kind == yaml.ScalarNode {
		// The form from before scopes: the bare hash, with full access.
		v.Set(reflect.ValueOf(Token{Hash: n.Value}))
		return
	}
	if v.Type() == durationType {
		if n.Kind != yaml.ScalarNode {
			d.fail(n.Line, path, "must be a single duration, not %s", kindName(n))
			return
		}
		dur, err := ParseDuration(n.Value)
		if err != nil {
			d.fail(n.Line, path, "%v", err)
			return
		}
		v.SetInt(int64(dur))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		d.list(n, v, path)
	case reflect.Map:
		d.dictionary(n, v, path)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path, tag)
		v.Set(p)
	default:
		d.scalar(n, v, path, tag)
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping (key: value lines)"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string, tag reflect.StructTag) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n.Line, path, "must be a single value, not %s", kindName(n))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		switch strings.ToLower(n.Value) {
		case "true", "yes", "on":
			v.SetBool(true)
		case "false", "no", "off":
			v.SetBool(false)
		default:
			d.fail(n.Line, path, "must be true or false, got %q", n.Value)
		}
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 10, v.Type().Bits())
		if err != nil {
			d.fail(n.Line, path, "must be %s, got %q", intRange(tag), n.Value)
			return
		}
		v.SetInt(i)
	default:
		panic(fmt.Sprintf("config: no decoder for %s at %s", v.Type(), path))
	}
}
