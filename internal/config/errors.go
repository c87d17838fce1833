package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a configuration, located for the person fixing it.
// Parse, Load, Validate and Override return all problems together, joined
// with errors.Join and sorted by line; use errors.As or Errors to get them
// one by one.
type Error struct {
	File string // the file name given to Parse, or the flag that set the value ("--listen")
	Line int    // 1-based; 0 when the value did not come from a line of a file
	Path string // key path such as modems[1].baud; "" for the file as a whole
	Msg  string
	Err  error // the underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errors returns the individual problems inside an error from this package,
// in order, so that a caller can print one per line.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if e, ok := err.(*Error); ok {
			out = append(out, e)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				walk(inner)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// joinErrors sorts problems into the order a person reads the file and
// joins them; nil when there are none.
// sortByLine orders problems as the file reads.
func sortByLine(es []*Error) {
	slices.SortStableFunc(es, func(a, b *Error) int {
		// Problems without a line (defaults, flags) come after the file's.
		la, lb := a.Line, b.Line
		if la == 0 {
			la = int(^uint(0) >> 1)
		}
		if lb == 0 {
			lb = int(^uint(0) >> 1)
		}
		return cmp.Or(cmp.Compare(la, lb), strings.Compare(a.Path, b.Path))
	})
}

func joinErrors(es []*Error) error {
	if len(es) == 0 {
		return nil
	}
	sortByLine(es)
	// An anchor merged in several places would report its problem once per
	// use.
	seen := map[string]bool{}
	var errs []error
	for _, e := range es {
		if text := e.Error(); !seen[text] {
			seen[text] = true
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}
