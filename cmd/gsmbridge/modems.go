package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"
)

// modemStatus is a modem as GET /v1/modems shows it, reduced to what the
// table prints.
type modemStatus struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	State        string    `json:"state"`
	Since        time.Time `json:"state_since"`
	Manufacturer string    `json:"manufacturer"`
	Model        string    `json:"model"`
	ICCID        string    `json:"iccid"`
	MSISDN       string    `json:"msisdn"`
	Operator     struct {
		PLMN string `json:"plmn"`
		Name string `json:"name"`
	} `json:"operator"`
	SignalDBm    *int   `json:"signal_dbm"`
	SignalBars   int    `json:"signal_bars"`
	StorageUsed  int    `json:"storage_used"`
	StorageTotal int    `json:"storage_total"`
	QueueDepth   int    `json:"queue_depth"`
	Sent         uint64 `json:"sent"`
	Received     uint64 `json:"received"`
	SendFailures uint64 `json:"send_failures"`
	LastError    string `json:"last_error"`
}

func runModems(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("modems", "[flags]", "Shows each modem the daemon runs: state, SIM, signal and counters.", stderr)
	var answer struct {
		Modems []modemStatus `json:"modems"`
	}
	if printed, err := fetchView(ctx, fs, args, stdout, "/v1/modems", &answer); printed || err != nil {
		return err
	}
	t := newTable(column{"ID", 0}, column{"NAME", 16}, column{"STATE", 0}, column{"SINCE", 0}, column{"OPERATOR", 24},
		column{"SIGNAL", 0}, column{"MSISDN", 0}, column{"ICCID", 0}, column{"MODEL", 24}, column{"STORAGE", 0},
		column{"QUEUE", 0}, column{"SENT", 0}, column{"RECEIVED", 0}, column{"FAILED", 0}, column{"LAST ERROR", 40})
	for _, m := range answer.Modems {
		t.add(m.ID, m.Name, m.State, timeCell(m.Since), joinNonEmpty(m.Operator.Name, m.Operator.PLMN), signalCell(m),
			m.MSISDN, m.ICCID, joinNonEmpty(m.Manufacturer, m.Model), storageCell(m), strconv.Itoa(m.QueueDepth),
			strconv.FormatUint(m.Sent, 10), strconv.FormatUint(m.Received, 10), strconv.FormatUint(m.SendFailures, 10), m.LastError)
	}
	return t.write(stdout)
}

func signalCell(m modemStatus) string {
	if m.SignalDBm == nil {
		return ""
	}
	return fmt.Sprintf("%d dBm %d/4", *m.SignalDBm, m.SignalBars)
}

func storageCell(m modemStatus) string {
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
