package main

import (
	"context"
	"io"
	"strconv"
	"time"
)

// simRecord is a SIM as GET /v1/sims shows it, reduced to what the table
// prints.
type simRecord struct {
	ICCID          string    `json:"iccid"`
	MSISDN         string    `json:"msisdn"`
	PLMN           string    `json:"plmn"`
	ModemID        string    `json:"modem"`
	State          string    `json:"state"`
	StateReason    string    `json:"state_reason"`
	FailStreak     int       `json:"consecutive_failures"`
	LastSentAt     time.Time `json:"last_sent_at"`
	LastReceivedAt time.Time `json:"last_received_at"`
	LastSeen       time.Time `json:"last_seen"`
}

func runSIMs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sims", stdout, help{
		synopsis: "[flags]",
		about:    "Shows every SIM the daemon has seen, in which modem, and how it fares.",
		examples: []string{"gsmbridge sims", "gsmbridge sims --json | jq '.sims[] | select(.state != \"active\")'"},
	})
	var answer struct {
		SIMs []simRecord `json:"sims"`
	}
	if printed, err := fetchView(ctx, fs, args, stdout, "/v1/sims", &answer); printed || err != nil {
		return err
	}
	t := newTable(column{"ICCID", 0}, column{"MSISDN", 0}, column{"PLMN", 0}, column{"MODEM", 0}, column{"STATE", 0},
		column{"REASON", 32}, column{"FAILURES", 0}, column{"LAST SENT", 0}, column{"LAST RECEIVED", 0}, column{"LAST SEEN", 0})
	for _, s := range answer.SIMs {
		t.add(s.ICCID, s.MSISDN, s.PLMN, s.ModemID, s.State, s.StateReason, strconv.Itoa(s.FailStreak),
			timeCell(s.LastSentAt), timeCell(s.LastReceivedAt), timeCell(s.LastSeen))
	}
	return t.write(stdout)
}
