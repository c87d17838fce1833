package main

import (
	"context"
	"io"
	"strconv"

	"github.com/gsmbridge/gsmbridge/api"
)

func runSIMs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sims", stdout, help{
		synopsis: "[flags]",
		about:    "Shows every SIM the daemon has seen, in which modem, and how it fares.",
		examples: []string{"gsmbridge sims", "gsmbridge sims --json | jq '.sims[] | select(.state != \"active\")'",
			"gsmbridge sims --fleet"},
	})
	fleet := addFleetFlag(fs, "SIMs")
	var answer api.SIMList
	if printed, err := fetchViewQuery(ctx, fs, args, stdout, "/v1/sims", fleet.query, &answer); printed || err != nil {
		return err
	}
	t := newTable(fleet.columns(column{"ICCID", 0}, column{"MSISDN", 0}, column{"PLMN", 0}, column{"MODEM", 0}, column{"STATE", 0},
		column{"REASON", 32}, column{"FAILURES", 0}, column{"LAST SENT", 0}, column{"LAST RECEIVED", 0}, column{"LAST SEEN", 0})...)
	for _, s := range answer.SIMs {
		t.add(fleet.row(s.Host, s.HostDown, s.ICCID, s.MSISDN, s.PLMN, s.Modem, s.State, s.StateReason, strconv.Itoa(s.FailStreak),
			timeCell(s.LastSentAt), timeCell(s.LastReceivedAt), timeCell(s.LastSeen))...)
	}
	return t.write(stdout)
}
