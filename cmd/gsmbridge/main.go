// Command gsmbridge is the one binary: the daemon (serve) and the verbs people use
// against it or straight against a modem.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// verb is one sub-command. Each verb parses its own flags so that its help
// text stays next to its code.
type verb struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// verbs gathers the verb groups; each group lives in its own file.
func verbs() map[string]verb {
	all := map[string]verb{}
	for _, group := range []map[string]verb{coreVerbs(), clientVerbs(), ussdVerbs(), eventVerbs(), confirmVerbs(), benchVerbs(), fleetVerbs()} {
		for name, v := range group {
			all[name] = v
		}
	}
	return all
}

func coreVerbs() map[string]verb {
	return map[string]verb{
		"serve":        {"run the daemon (--config FILE, or --modemsim for simulated modems)", runServe},
		"check-config": {"validate a configuration file", runCheckConfig},
		"modemsim":     {"run simulated modems and print their device paths", runSim},
		"sim":          {"the old name of modemsim, kept for one release", runSimAlias},
		"version":      {"print the version, commit and Go version this binary was built from", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	vs := verbs()
	if len(args) == 0 {
		usage(stderr, vs)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		usage(stdout, vs)
		return 0
	case "help":
		if len(rest) == 0 {
			usage(stdout, vs)
			return 0
		}
		// "gsmbridge help send" is "gsmbridge send --help".
		name, rest = rest[0], []string{"--help"}
	case "-version", "--version":
		name = "version"
	}
	v, ok := vs[name]
	if !ok {
		fmt.Fprintf(stderr, "gsmbridge: unknown command %q\n\n", name)
		usage(stderr, vs)
		return 2
	}
	if err := v.run(ctx, rest, stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "gsmbridge %s: %v\n", name, err)
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprint(stderr, helpHintLine(name))
			return 2
		}
		return 1
	}
	return 0
}

// helpHintLine follows a usage mistake: where the right usage is.
func helpHintLine(verb string) string {
	return "Run 'gsmbridge " + verb + " --help' for its usage, flags and examples.\n"
}

// usageError marks a mistake in how the command was called (exit code 2),
// as opposed to a failure while doing the work (exit code 1).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usage(w io.Writer, vs map[string]verb) {
	fmt.Fprintln(w, "usage: gsmbridge <command> [flags] [args]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(vs))
	width := 0
	for n := range vs {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, vs[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'gsmbridge <command> --help' for a command's flags and examples.")
}
