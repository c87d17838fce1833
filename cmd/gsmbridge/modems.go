package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/client"
)

func runModems(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("modems", stdout, help{
		synopsis: "[flags]",
		about: "Shows each modem the daemon runs: state, SIM, signal and counters. The ID or the\n" +
			"NAME is what --modem of send and ussd takes.",
		examples: []string{"gsmbridge modems", "gsmbridge modems --json | jq '.modems[] | {id, name, state}'",
			"gsmbridge modems --fleet"},
	})
	fleet := addFleetFlag(fs, "modems")
	var answer api.ModemList
	if printed, err := fetchViewQuery(ctx, fs, args, stdout, "/v1/modems", fleet.query, &answer); printed || err != nil {
		return err
	}
	t := newTable(fleet.columns(column{"ID", 0}, column{"NAME", 16}, column{"STATE", 0}, column{"SINCE", 0}, column{"OPERATOR", 24},
		column{"SIGNAL", 0}, column{"MSISDN", 0}, column{"ICCID", 0}, column{"MODEL", 24}, column{"STORAGE", 0},
		column{"QUEUE", 0}, column{"SENT", 0}, column{"RECEIVED", 0}, column{"FAILED", 0}, column{"LAST ERROR", 40})...)
	for _, m := range answer.Modems {
		t.add(fleet.row(m.Host, m.HostDown, m.ID, m.Name, string(m.State), timeCell(m.Since), joinNonEmpty(m.Operator.Name, m.Operator.PLMN), signalCell(m),
			m.MSISDN, m.ICCID, joinNonEmpty(m.Manufacturer, m.Model), storageCell(m), strconv.Itoa(m.QueueDepth),
			strconv.FormatUint(m.Sent, 10), strconv.FormatUint(m.Received, 10), strconv.FormatUint(m.SendFailures, 10), m.LastError)...)
	}
	return t.write(stdout)
}

func signalCell(m api.Modem) string {
	if m.SignalDBm == nil {
		return ""
	}
	return fmt.Sprintf("%d dBm %d/4", *m.SignalDBm, m.SignalBars)
}

func storageCell(m api.Modem) string {
	if m.StorageTotal == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", m.StorageUsed, m.StorageTotal)
}

// joinNonEmpty joins the parts that are there with a space.
func joinNonEmpty(parts ...string) string {
	s := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if s != "" {
			s += " "
		}
		s += p
	}
	return s
}

// resolveModem turns what --modem was given, a modem's id or its name as
// `gsmbridge modems` shows them, into the id the API takes. A token that
// may send but not read the modem list leaves the value as it is: the
// daemon then judges it as an id.
func resolveModem(ctx context.Context, c *apiClient, given string) (string, error) {
	return resolveModemIn(ctx, c, given, false)
}

// resolvePin is resolveModem for a message's pin: a modem the daemon does
// not run may run on another host of its fleet, and the daemon routes a
// message pinned to it there. One modem of the fleet with that id or name
// is taken.
func resolvePin(ctx context.Context, c *apiClient, given string) (string, error) {
	return resolveModemIn(ctx, c, given, true)
}

func resolveModemIn(ctx context.Context, c *apiClient, given string, fleetToo bool) (string, error) {
	var answer api.ModemList
	if _, err := c.get(ctx, "/v1/modems", nil, &answer); err != nil {
		var ae *client.Error
		if errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
			return given, nil
		}
		return "", err
	}
	byName := matchModem(answer.Modems, given)
	if len(byName) == 1 {
		return byName[0], nil
	}
	if len(byName) == 0 && fleetToo {
		// A daemon alone answers 404 not_in_fleet: the local answer stands.
		var fleet api.ModemList
		if _, err := c.get(ctx, "/v1/modems", url.Values{"fleet": {"true"}}, &fleet); err == nil {
			if ids := matchModem(fleet.Modems, given); len(ids) == 1 {
				return ids[0], nil
			}
		}
	}
	known := make([]string, 0, len(answer.Modems))
	for _, m := range answer.Modems {
		if m.Name != "" {
			known = append(known, m.Name+" ("+m.ID+")")
		} else {
			known = append(known, m.ID)
		}
	}
	if len(byName) > 1 {
		return "", fmt.Errorf("--modem %q: %d modems have that name; give the id: %s", given, len(byName), strings.Join(known, ", "))
	}
	if len(known) == 0 {
		return "", fmt.Errorf("--modem %q: the daemon runs no modem", given)
	}
	return "", fmt.Errorf("--modem %q: no modem has that id or name; the daemon runs %s", given, strings.Join(known, ", "))
}

// matchModem returns the ids of the modems given names: its own id, else
// every modem of that name, else of that name in another case.
func matchModem(modems []api.Modem, given string) []string {
	var byName, byFolded []string
	for _, m := range modems {
		switch {
		case m.ID == given:
			return []string{m.ID}
		case m.Name == given:
			byName = append(byName, m.ID)
		case m.Name != "" && strings.EqualFold(m.Name, given):
			byFolded = append(byFolded, m.ID)
		}
	}
	if len(byName) == 0 {
		return byFolded // "MTS-1" finds mts-1 when nothing is named exactly so
	}
	return byName
}
