package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/client"
)

func runReady(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ready", stdout, help{
		synopsis: "[flags]",
		about: "Asks the daemon whether it can take and send messages (GET /readyz) and shows every check:\n" +
			"the store, the SIMs, each modem and, on a host of a fleet, its place in the fleet. It exits 0\n" +
			"when the daemon is ready (with or without warnings) and 1 when a check fails, so a script or\n" +
			"a probe can ask it.",
		examples: []string{"gsmbridge ready", "gsmbridge ready --json | jq '.checks[] | select(.status != \"ok\")'"},
	})
	cf := addClientFlags(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(pos); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	defer c.Close()
	rd, err := c.Ops.Readiness(ctx)
	// Not ready is an answer too: /readyz says why with a 503.
	var e *client.Error
	if err != nil && !(errors.As(err, &e) && e.Status == http.StatusServiceUnavailable && rd.Status != "") {
		return c.explain(err)
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
