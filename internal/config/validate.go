package config

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate checks the configuration as a whole and returns every problem,
// located at the line that set the value when the configuration came from
// Parse. Parse calls it; call it again after changing fields by hand.
func (c *Config) Validate() error {
	return joinErrors(c.validate())
}

// Override applies the serve flags --listen and --data-dir over the file's
// values; an empty argument leaves the value alone. A relative --data-dir is
// taken from the working directory, as a shell user expects. It returns the
// result of Validate, with problems in the flags named after the flag.
func (c *Config) Override(listen, dataDir string) error {
	if c.origins == nil {
		c.origins = map[string]origin{}
	}
	if listen != "" {
		c.Listen = listen
		c.origins["listen"] = origin{file: "--listen"}
	}
	if dataDir != "" {
		abs, err := filepath.Abs(dataDir)
		if err != nil {
			return &Error{File: "--data-dir", Path: "data_dir", Msg: err.Error(), Err: err}
		}
		c.DataDir = abs
		c.origins["data_dir"] = origin{file: "--data-dir"}
	}
	return c.Validate()
}

type validator struct {
	c    *Config
	errs []*Error
}

func (v *validator) add(path, format string, args ...any) {
	o := v.c.origin(path)
	v.errs = append(v.errs, &Error{File: o.file, Line: o.line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// origin finds where path was set, or else where its nearest enclosing key
// was: a missing modems[0].port is reported at the line of modems[0].
func (c *Config) origin(path string) origin {
	for p := path; p != ""; p = parentPath(p) {
		if o, ok := c.origins[p]; ok {
			return o
		}
	}
	return origin{}
}

// parentPath drops the last element of a key path; quoted map keys may
// themselves hold dots and brackets.
func parentPath(p string) string {
	cut, quoted := 0, false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '.' || c == '['):
			cut = i
		}
	}
	return p[:cut]
}

func (c *Config) validate() []*Error {
	v := &validator{c: c}
	v.ranges(reflect.ValueOf(c).Elem(), "")
	v.top()
	v.modems()
	v.sims()
	v.auth()
	v.http()
	v.send()
	v.ussd()
	v.operators()
	v.webhooks()
	v.confirmations()
	v.fleet()
	v.crossChecks()
	return v.errs
}

// ranges applies the min and max struct tags of numbers and durations.
func (v *validator) ranges(rv reflect.Value, path string) {
	switch rv.Kind() {
	case reflect.Struct:
		t := rv.Type()
		for _, f := range reflect.VisibleFields(t) {
			if !f.IsExported() || yamlKey(f) == "" {
				continue
			}
			p := join(path, yamlKey(f))
			fv := rv.FieldByIndex(f.Index)
			switch {
			case f.Type == durationType:
				v.durationRange(fv.Interface().(time.Duration), p, f.Tag)
			case fv.Kind() == reflect.Int || fv.Kind() == reflect.Int64:
				v.intRange(fv.Int(), p, f.Tag)
			default:
				v.ranges(fv, p)
			}
		}
	case reflect.Slice:
		for i := range rv.Len() {
			v.ranges(rv.Index(i), path+"["+strconv.Itoa(i)+"]")
		}
	case reflect.Map:
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			v.ranges(rv.MapIndex(k), path+"["+strconv.Quote(k.String())+"]")
		}
	}
}

func tagInt(tag reflect.StructTag, key string) (int64, bool) {
	s, ok := tag.Lookup(key)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("config: bad %s tag %q", key, s))
	}
	return i, true
}

func tagDuration(tag reflect.StructTag, key string) (time.Duration, bool) {
	s, ok := tag.Lookup(key)
	if !ok {
		return 0, false
	}
	d, err := ParseDuration(s)
	if err != nil {
		panic(fmt.Sprintf("config: bad %s tag %q", key, s))
	}
	return d, true
}

// intRange describes the integers a field's tags allow, for messages.
func intRange(tag reflect.StructTag) string {
	lo, hasLo := tagInt(tag, "min")
	hi, hasHi := tagInt(tag, "max")
	switch {
	case hasLo && hasHi:
		return fmt.Sprintf("an integer from %d to %d", lo, hi)
	case hasLo && lo == 1:
		return "a positive integer"
	case hasLo && lo == 0:
		return "an integer, 0 or more"
	case hasLo && lo == -1:
		return "an integer: -1 (unlimited), 0 (default) or more"
	case hasLo:
		return fmt.Sprintf("an integer, %d or more", lo)
	}
	return "an integer"
}

func (v *validator) intRange(i int64, path string, tag reflect.StructTag) {
	lo, hasLo := tagInt(tag, "min")
	hi, hasHi := tagInt(tag, "max")
	if hasLo && i < lo || hasHi && i > hi {
		v.add(path, "must be %s, got %d", intRange(tag), i)
	}
}

func (v *validator) durationRange(d time.Duration, path string, tag reflect.StructTag) {
	lo, hasLo := tagDuration(tag, "min")
	hi, hasHi := tagDuration(tag, "max")
	var want string
	switch {
	case hasLo && lo == 0:
		want = "0 (never) or a positive duration"
	case hasLo && lo > time.Nanosecond:
		want = "a duration of at least " + formatDuration(lo)
	case hasLo:
		want = "a positive duration"
	default:
		want = "a duration"
	}
	if hasHi {
		want += " up to " + formatDuration(hi)
	}
	if hasLo && d < lo || hasHi && d > hi {
		v.add(path, "must be %s, got %s", want, formatDuration(d))
	}
}

// firstSet picks, among paths that a check relates, the one the file set,
// so that the message points at the line someone wrote.
func (c *Config) firstSet(paths ...string) string {
	for _, p := range paths {
		if _, ok := c.origins[p]; ok {
			return p
		}
	}
	return paths[0]
}
