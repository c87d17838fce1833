package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gsmbridge/gsmbridge/api"
)

// messageStates are the states GET /v1/messages filters on; checked here so
// that a typo is a usage error rather than an empty list.
var messageStates = stateNames(api.MessageStates)

func runMessages(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("messages", stdout, help{
		synopsis: "[flags]",
		about:    "Lists outgoing messages, oldest first.",
		examples: []string{
			"gsmbridge messages --state failed --since 2h",
			"gsmbridge messages --all --json | jq '.messages[] | select(.state == \"unknown\") | .id'",
		},
	})
	state := fs.String("state", "", "only messages in this state: "+strings.Join(messageStates, ", "))
	since := fs.String("since", "", "only messages created since this time, or this long ago (2h)")
	limit := fs.Int("limit", 100, "messages per page (1-1000)")
	all := fs.Bool("all", false, "follow next_cursor through every page")
	cf := addClientFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	q, err := listingQuery(*state, messageStates, *limit, *since)
	if err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	defer c.Close()

	var list []api.Message
	var raw []json.RawMessage
	var pageBody []byte
	more := ""
	for {
		var page struct {
			Messages   []json.RawMessage `json:"messages"`
			NextCursor string            `json:"next_cursor"`
		}
		if pageBody, err = c.get(ctx, "/v1/messages", q, &page); err != nil {
			return err
		}
		for _, r := range page.Messages {
			var m api.Message
			if err := json.Unmarshal(r, &m); err != nil {
				return fmt.Errorf("GET /v1/messages: the daemon's answer is not the JSON expected: %w", err)
			}
			list = append(list, m)
		}
		raw = append(raw, page.Messages...)
		more = page.NextCursor
		if !*all || more == "" {
			break
		}
		q.Set("cursor", more)
	}

	if cf.json {
		if !*all {
			_, err := stdout.Write(pageBody)
			return err
		}
		return writeJSONLine(stdout, map[string]any{"messages": nonNil(raw), "next_cursor": ""})
	}
	t := newTable(column{"ID", 0}, column{"STATE", 0}, column{"TO", 0}, column{"PARTS", 0}, column{"MODEM", 0},
		column{"CREATED", 0}, column{"WAITING", 0}, column{"ERROR", 32}, column{"TEXT", 40})
	for _, m := range list {
		errText := ""
		if m.LastError != nil {
			errText = m.LastError.Code + ": " + m.LastError.Message
		}
		t.add(m.ID, string(m.State), m.To, strconv.Itoa(m.Parts), m.Modem, timeCell(m.CreatedAt), holdCell(m.Hold), errText, m.Text)
	}
	if err := t.write(stdout); err != nil {
		return err
	}
	if more != "" {
		fmt.Fprintf(stderr, "more messages follow: add --all, or narrow with --state or --since\n")
	}
	return nil
}

// writeJSONLine prints v as one line of JSON, as the daemon does, keeping
// "<" and "&" in texts readable.
func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// stateNames are the names of an API state list, for flags that take one.
func stateNames[S ~string](states []S) []string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = string(s)
	}
	return out
}

// nonNil makes an empty list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
