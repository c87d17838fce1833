package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/client"
)

func runReady(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ready", stdout, help{
		synopsis: "[flags]",
		about: "Asks the daemon whether it can take and send messages (GET /readyz) and shows every check:\n" +
			"the store, the SIMs, each modem and, on a host of a fleet, its place in the fleet. It exits 0\n" +
			"when the daemon is ready (with or without warnings) and 1 when a check fails, so a script or\n" +
			"a probe can ask it. With --within it asks again until the daemon is ready or that time has\n" +
			"passed: right after a start the modems need some seconds.",
		examples: []string{"gsmbridge ready", "gsmbridge ready --within 60s", "gsmbridge ready --json | jq '.checks[] | select(.status != \"ok\")'"},
	})
	within := fs.Duration("within", 0, "ask again every half second until ready or this much time has passed (0: ask once)")
	cf := addClientFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *within < 0 {
		return usageError{"--within must not be negative"}
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	defer c.Close()
	rd, err := askReady(ctx, c, time.Now().Add(*within))
	if err != nil {
		return err
	}
	if cf.json {
		if err := writeJSONLine(stdout, rd); err != nil {
			return err
		}
	} else {
		t := newTable(column{"CHECK", 0}, column{"STATUS", 0}, column{"MESSAGE", 0})
		for _, ch := range rd.Checks {
			t.add(ch.Name, ch.Status, ch.Message)
		}
		if err := t.write(stdout); err != nil {
			return err
		}
	}
	if rd.Status != api.ReadyFail {
		return nil
	}
	var failed []string
	for _, ch := range rd.Checks {
		if ch.Status == api.ReadyFail {
			failed = append(failed, ch.Name+": "+ch.Message)
		}
	}
	return fmt.Errorf("the daemon is not ready: %s", strings.Join(failed, "; "))
}

// askReady asks /readyz until the daemon is ready or until is past, and
// returns the last answer. A daemon that is not ready answers too (a 503
// that says why); one that does not answer yet is asked again until then.
func askReady(ctx context.Context, c *apiClient, until time.Time) (api.Readiness, error) {
	for {
		rd, err := c.Ops.Readiness(ctx)
		var e *client.Error
		if errors.As(err, &e) && e.Status == http.StatusServiceUnavailable && rd.Status != "" {
			err = nil
		}
		if (err == nil && rd.Status != api.ReadyFail) || !time.Now().Before(until) {
			return rd, c.explain(err)
		}
		select {
		case <-ctx.Done():
			return rd, ctx.Err()
		case <-time.After(readyPoll):
		}
	}
}

// readyPoll is how often --within asks again.
const readyPoll = 500 * time.Millisecond
