package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
)

// followInterval is how often inbox --follow asks for new messages: replies
// are read by people, a second late is not noticed.
const followInterval = time.Second

func runInbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("inbox", stdout, help{
		synopsis: "[flags]",
		about: "Shows received SMS, oldest first. With --follow it then waits for new ones until\n" +
			"interrupted; with --follow --json it prints one JSON object per message and line.",
		examples: []string{"gsmbridge inbox --since 1h", "gsmbridge inbox --follow", "gsmbridge inbox --follow --json | jq -r .text"},
	})
	follow := fs.Bool("follow", false, "keep printing new messages as they arrive, until Ctrl-C")
	since := fs.String("since", "", "only messages received since this time, or this long ago (2h)")
	cf := addClientFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sinceTime, err := parseSince(*since, time.Now())
	if err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	defer c.Close()

	q := url.Values{"limit": {"1000"}}
	if sinceTime != "" {
		q.Set("since", sinceTime)
	}
	out := &inboxPrinter{w: stdout, json: cf.json, follow: *follow}
	if *follow {
		if err := out.header(); err != nil {
			return err
		}
	}
	for {
		err := fetchInbox(ctx, c, q, out)
		if *follow && errors.Is(err, context.Canceled) {
			return nil // Ctrl-C is how --follow ends
		}
		if err != nil {
			return err
		}
		if !*follow {
			return out.finish()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(followInterval):
		}
	}
}

// fetchInbox prints every message after q's cursor, page by page, and moves
// the cursor past them. The cursor is the id of the last message seen: the
// API's next_cursor is exactly that, and an empty page leaves it where it is.
func fetchInbox(ctx context.Context, c *apiClient, q url.Values, out *inboxPrinter) error {
	for {
		var page struct {
			Messages   []json.RawMessage `json:"messages"`
			NextCursor string            `json:"next_cursor"`
		}
		body, err := c.get(ctx, "/v1/inbox", q, &page)
		if err != nil {
			return err
		}
		msgs := make([]api.InboxMessage, len(page.Messages))
		for i, r := range page.Messages {
			if err := json.Unmarshal(r, &msgs[i]); err != nil {
				return fmt.Errorf("GET /v1/inbox: the daemon's answer is not the JSON expected: %w", err)
			}
		}
		if err := out.page(body, page.Messages, msgs); err != nil {
			return err
		}
		if len(msgs) > 0 {
			q.Set("cursor", strconv.FormatInt(msgs[len(msgs)-1].ID, 10))
		}
		if page.NextCursor == "" {
			return nil
		}
	}
}

// inboxPrinter prints pages as they come: a table at the end, or, when
// following, rows of fixed width (or JSON lines) at once.
type inboxPrinter struct {
	w      io.Writer
	json   bool
	follow bool

	pages int
	first []byte // the first page's body, printed as is when it is the only one
	raw   []json.RawMessage
	table *table
}

func inboxTable() *table {
	return newTable(column{"ID", 6}, column{"RECEIVED", 19}, column{"FROM", 16}, column{"MODEM", 16}, column{"TEXT", 60})
}

func (p *inboxPrinter) header() error {
	if p.json {
		return nil
	}
	p.table = inboxTable()
	return p.table.writeFixed(p.w, true)
}

func (p *inboxPrinter) page(body []byte, raw []json.RawMessage, msgs []api.InboxMessage) error {
	p.pages++
	if p.json {
		if !p.follow {
			if p.pages == 1 {
				p.first = body
			}
			p.raw = append(p.raw, raw...)
			return nil
		}
		for _, r := range raw {
			if err := writeJSONLine(p.w, r); err != nil {
				return err
			}
		}
		return nil
	}
	if p.table == nil {
		p.table = inboxTable()
	}
	for _, m := range msgs {
		text := m.Text
		switch {
		case m.Blanked:
			text = "[text removed by retention]"
		case !m.Complete:
			text = "[incomplete] " + text
		}
		p.table.add(strconv.FormatInt(m.ID, 10), timeCell(m.ReceivedAt), m.From, m.Modem, text)
	}
	if p.follow {
		return p.table.writeFixed(p.w, false)
	}
	return nil
}

func (p *inboxPrinter) finish() error {
	switch {
	case !p.json:
		return p.table.write(p.w)
	case p.pages == 1:
		_, err := p.w.Write(p.first)
		return err
	}
	return writeJSONLine(p.w, map[string]any{"messages": nonNil(p.raw), "next_cursor": ""})
}
