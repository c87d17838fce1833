package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gsmbridge/gsmbridge/daemon/config"
)

// runCheckConfig validates a configuration file without starting anything,
// so an operator can check an edit before restarting the daemon.
func runCheckConfig(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gsmbridge check-config FILE")
		fmt.Fprintln(stderr, "\nReports every problem in FILE as file:line: key: message.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"give exactly one configuration file"}
	}
	path := fs.Arg(0)
	c, err := config.Load(path)
	if err != nil {
		problems := config.Errors(err)
		if len(problems) == 0 {
			return err // the file could not be read
		}
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		if len(problems) == 1 {
			return fmt.Errorf("%s: 1 problem", path)
		}
		return fmt.Errorf("%s: %d problems", path, len(problems))
	}
	fmt.Fprintf(stdout, "ok: %d modems, %d sims, %d webhooks\n", len(c.Modems), len(c.SIMs), len(c.Webhooks))
	return nil
}
