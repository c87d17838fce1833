package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/modemsim"
)

// checkColumns asserts a table's header and that every row starts each
// named column where the header does: the table is aligned.
func checkColumns(t *testing.T, out string, header []string, rows int) []string {
	t.Helper()
	ls := outputLines(out)
	if got := strings.Fields(strings.ReplaceAll(ls[0], "LAST ", "LAST_")); !slices.Equal(got, header) {
		t.Fatalf("header %q, want %q", got, header)
	}
	if len(ls)-1 != rows {
		t.Fatalf("%d rows, want %d:\n%s", len(ls)-1, rows, out)
	}
	return ls[1:]
}

// cellAt returns the cell of row under the header's column title.
func cellAt(t *testing.T, header, row, title string) string {
	t.Helper()
	start := strings.Index(header, title)
	if start < 0 {
		t.Fatalf("no column %q in %q", title, header)
	}
	r := []rune(row)
	hs := []rune(header[:start])
	if len(r) < len(hs) {
		t.Fatalf("row %q ends before column %s", row, title)
	}
	cell := string(r[len(hs):])
	if i := strings.Index(cell, "  "); i >= 0 {
		cell = cell[:i]
	}
	return cell
}

func TestMessagesTablePagesAndFilters(t *testing.T) {
	h := startClientDaemon(t, "", modemsim.Generic)
	texts := []string{
		"Платёж принят",
		"Line one\nline two\tand a tab",
		strings.Repeat("Длинный текст, ", 5),
	}
	for _, text := range texts {
		if code, _, errOut := h.cli("send", "+79161234567", text, "--wait"); code != 0 {
			t.Fatalf("send: %s", errOut)
		}
	}
	header := []string{"ID", "STATE", "TO", "PARTS", "MODEM", "CREATED", "WAITING", "ERROR", "TEXT"}
	code, out, errOut := h.cli("messages")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	rows := checkColumns(t, out, header, 3)
	head := outputLines(out)[0]
	// Ids order the list; they are random within a millisecond, so the
	// texts are compared as a set.
	wantText := map[string]bool{"Платёж принят": true, "Line one line two and a tab": true, "Длинный текст, Длинный текст, Длинный т…": true}
	for i, row := range rows {
		if got := cellAt(t, head, row, "STATE"); got != "sent" {
			t.Errorf("row %d state %q", i, got)
		}
		if got := cellAt(t, head, row, "TO"); got != "+79161234567" {
			t.Errorf("row %d to %q: numbers are shown in full", i, got)
		}
		if got := cellAt(t, head, row, "ERROR"); got != "-" {
			t.Errorf("row %d error %q", i, got)
		}
		text := string([]rune(row)[len([]rune(head[:strings.Index(head, "TEXT")])):])
		if !wantText[text] {
			t.Errorf("row %d text %q, want one of %v", i, text, wantText)
		}
		delete(wantText, text)
	}

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantRows   int
		wantStderr string
	}{
		{name: "one page", args: []string{"--limit", "2"}, wantRows: 2, wantStderr: "more messages follow: add --all, or narrow with --state or --since\n"},
		{name: "every page", args: []string{"--limit", "2", "--all"}, wantRows: 3},
		{name: "by state", args: []string{"--state", "sent"}, wantRows: 3},
		{name: "none in that state", args: []string{"--state", "failed"}, wantRows: 0},
		{name: "since an hour ago", args: []string{"--since", "1h"}, wantRows: 3},
		{name: "since a day to come", args: []string{"--since", "2099-01-01"}, wantRows: 0},
		{name: "a state that does not exist", args: []string{"--state", "lost"}, wantCode: 2,
			wantStderr: "gsmbridge messages: --state \"lost\": want one of queued, sending, sent, delivered, undelivered, failed, expired, unknown, cancelled\n" + helpHintLine("messages")},
		{name: "a limit too high", args: []string{"--limit", "5000"}, wantCode: 2, wantStderr: "gsmbridge messages: --limit must be from 1 to 1000\n" + helpHintLine("messages")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := h.cli(append([]string{"messages"}, tt.args...)...)
			if code != tt.wantCode || errOut != tt.wantStderr {
				t.Fatalf("exit %d, stderr %q; want %d, %q", code, errOut, tt.wantCode, tt.wantStderr)
			}
			if code == 0 {
				checkColumns(t, out, header, tt.wantRows)
			}
		})
	}

	code, out, _ = h.cli("messages", "--json", "--all", "--limit", "2")
	var all struct {
		Messages   []struct{ Text string }
		NextCursor *string `json:"next_cursor"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &all) != nil || all.NextCursor == nil || *all.NextCursor != "" {
		t.Fatalf("--json --all: exit %d, %s", code, out)
	}
	var got []string
	for _, m := range all.Messages {
		got = append(got, m.Text)
	}
	slices.Sort(got)
	slices.Sort(texts)
	if !slices.Equal(got, texts) {
		t.Fatalf("--json --all texts %q, want %q exactly", got, texts)
	}
	if len(all.Messages) != 3 {
		t.Fatalf("--json --all: %d messages, want 3", len(all.Messages))
	}
}

func TestModemsAndSIMsTables(t *testing.T) {
	h := startClientDaemon(t, "", modemsim.Quectel)
	var api struct {
		Modems []struct {
			ID, State, ICCID, MSISDN string
			Operator                 struct{ Name, PLMN string }
		}
	}
	code, out, _ := h.cli("modems", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &api) != nil || len(api.Modems) != 1 {
		t.Fatalf("modems --json: exit %d, %s", code, out)
	}
	m := api.Modems[0]
	if m.ICCID != h.modems[0].Config().ICCID {
		t.Fatalf("API iccid %q, the SIM's is %q", m.ICCID, h.modems[0].Config().ICCID)
	}

	code, out, errOut := h.cli("modems")
	if code != 0 {
		t.Fatalf("modems: exit %d, %s", code, errOut)
	}
	rows := checkColumns(t, out, []string{"ID", "NAME", "STATE", "SINCE", "OPERATOR", "SIGNAL", "MSISDN", "ICCID", "MODEL",
		"STORAGE", "QUEUE", "SENT", "RECEIVED", "FAILED", "LAST_ERROR"}, 1)
	head := outputLines(out)[0]
	for title, want := range map[string]string{"ID": m.ID, "STATE": "ready", "ICCID": m.ICCID,
		"OPERATOR": m.Operator.Name + " " + m.Operator.PLMN, "QUEUE": "0", "SENT": "0", "LAST ERROR": "-"} {
		if got := cellAt(t, head, rows[0], title); got != want {
			t.Errorf("modems %s = %q, want %q", title, got, want)
		}
	}

	code, out, errOut = h.cli("sims")
	if code != 0 {
		t.Fatalf("sims: exit %d, %s", code, errOut)
	}
	rows = checkColumns(t, out, []string{"ICCID", "MSISDN", "PLMN", "MODEM", "STATE", "REASON", "FAILURES",
		"LAST_SENT", "LAST_RECEIVED", "LAST_SEEN"}, 1)
	head = outputLines(out)[0]
	for title, want := range map[string]string{"ICCID": m.ICCID, "PLMN": m.Operator.PLMN, "MODEM": m.ID, "FAILURES": "0"} {
		if got := cellAt(t, head, rows[0], title); got != want {
			t.Errorf("sims %s = %q, want %q", title, got, want)
		}
	}
}
