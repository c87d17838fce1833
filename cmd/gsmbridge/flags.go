package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// help is what `gsmbridge VERB --help` prints besides the flags.
type help struct {
	synopsis string   // what follows "gsmbridge VERB" on the usage line
	about    string   // what the verb does, in a few lines
	examples []string // command lines people can copy, "# comment" allowed
}

// verbFlags is a verb's flag set together with its help, so that every verb
// answers --help with the same page on stdout and reports a mistake the same
// way on stderr (see run).
type verbFlags struct {
	*flag.FlagSet
	help   help
	stdout io.Writer
}

// newFlagSet returns the flag set of verb name. The flag package's own
// output is silenced: it would print a mistake twice and the help to the
// wrong stream.
func newFlagSet(name string, stdout io.Writer, h help) *verbFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &verbFlags{FlagSet: fs, help: h, stdout: stdout}
}

// writeHelp prints the usage line, what the verb does, its flags and its
// examples.
func (f *verbFlags) writeHelp(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: gsmbridge %s %s\n\n%s\n", f.Name(), f.help.synopsis, strings.TrimRight(f.help.about, "\n"))
	b.WriteString("\nFlags:\n")
	f.SetOutput(&b)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
	b.WriteString("\nExamples:\n")
	for _, e := range f.help.examples {
		b.WriteString("  " + e + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// parseArgs parses flags wherever they stand among the positional
// arguments, so that "send NUMBER TEXT --wait" works as people type it.
// After "--" everything is positional (a text that starts with "-").
// -h or --help prints the help to stdout and returns flag.ErrHelp, which
// run turns into exit 0.
func parseArgs(fs *verbFlags, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				if werr := fs.writeHelp(fs.stdout); werr != nil {
					return nil, werr
				}
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// parseFlags parses the flags of a verb that takes no arguments.
func parseFlags(fs *verbFlags, args []string) error {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	return noArgs(pos)
}

// noArgs rejects positional arguments a verb does not take.
func noArgs(args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", strings.Join(args, " "))}
	}
	return nil
}
