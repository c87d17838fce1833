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
	for _, group := range []map[string]verb{coreVerbs(), clientVerbs(), ussdVerbs(), eventVerbs(), confirmVerbs(), benchVerbs()} {
		for name, v := range group {
			all[name] = v
		}
	}
	return all
}

func coreVerbs() map[string]verb {
	return map[string]verb{
		"serve":        {"run the daemon (--config FILE, or --sim for simulated modems)", runServe},
		"check-config": {"validate a configuration file", runCheckConfig},
		"sim":          {"run simulated modems and print their device paths", runSim},
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
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, vs)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	v, ok := vs[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "gsmbridge: unknown command %q\n\n", args[0])
		usage(stderr, vs)
		return 2
	}
	if err := v.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintf(stderr, "gsmbridge %s: %v\n", args[0], err)
			return 2
		}
		fmt.Fprintf(stderr, "gsmbridge %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// usageError marks a mistake in how the command was called (exit code 2),
// as opposed to a failure while doing the work (exit code 1).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usage(w io.Writer, vs map[string]verb) {
	fmt.Fprintln(w, "usage: gsmbridge <command> [flags] [args]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(vs))
	for n := range vs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, vs[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'gsmbridge <command> -h' for a command's flags.")
}
