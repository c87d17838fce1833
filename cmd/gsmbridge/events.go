package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
)

// longPoll is how long one --follow request waits for new events at the
// daemon; it must end well before the request's own timeout.
func longPoll(timeout time.Duration) time.Duration {
	return min(25*time.Second, timeout/2)
}

func runEvents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("events", stdout, help{
		synopsis: "[flags]",
		about: "Prints the event log in order: every message state change, received SMS and\n" +
			"other changes. With --follow it then waits for new events until interrupted.\n" +
			"--json prints each event as one line of JSON, as webhooks receive it.",
		examples: []string{
			"gsmbridge events --type 'message.*'",
			"gsmbridge events --follow --after 1200 --json",
		},
	})
	follow := fs.Bool("follow", false, "keep printing new events as they happen, until Ctrl-C")
	after := fs.Int64("after", 0, "start after this event id (0: from the oldest kept)")
	var types multiFlag
	fs.Var(&types, "type", "only this event type, or a prefix such as message.* (repeatable)")
	cf := addClientFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *after < 0 {
		return usageError{"--after must be an event id, 0 or more"}
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	defer c.Close()

	q := url.Values{"limit": {"1000"}, "after": {strconv.FormatInt(*after, 10)}}
	for _, t := range types {
		q.Add("type", t)
	}
	tb := newTable(column{"ID", 8}, column{"TIME", 19}, column{"TYPE", 22}, column{"OBJECT", 40})
	if !cf.json {
		if err := tb.writeFixed(stdout, true); err != nil {
			return err
		}
	}
	for {
		var page api.EventPage
		_, err := c.get(ctx, "/v1/events", q, &page)
		if *follow && errors.Is(err, context.Canceled) {
			return nil // Ctrl-C is how --follow ends
		}
		if err != nil {
			return err
		}
		if err := printEvents(stdout, tb, cf.json, page.Events); err != nil {
			return err
		}
		q.Set("after", strconv.FormatInt(page.NextAfter, 10))
		switch {
		case page.More:
		case *follow:
			q.Set("wait", longPoll(cf.timeout).String())
		default:
			return nil
		}
	}
}

func printEvents(w io.Writer, tb *table, asJSON bool, events []api.Event) error {
	if !asJSON {
		for _, ev := range events {
			tb.add(strconv.FormatInt(ev.ID, 10), timeCell(ev.CreatedAt), ev.Type,
				fmt.Sprintf("%s/%s #%d", ev.Object.Kind, ev.Object.ID, ev.Object.Seq))
		}
		return tb.writeFixed(w, false)
	}
	for _, ev := range events {
		if err := writeJSONLine(w, ev); err != nil {
			return err
		}
	}
	return nil
}

// multiFlag collects a flag given several times.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
