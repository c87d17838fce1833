package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/modemsim"
)

func TestInboxFollowSeesRepliesUntilCancelled(t *testing.T) {
	h := startClientDaemon(t, "", modemsim.Huawei)
	own := h.modems[0].Config().MSISDN
	customer := "+79161234567"

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"inbox", "--follow", "--addr", h.addr}, &out, &errOut) }()

	long := strings.Repeat("Подтверждаю платёж. ", 8)
	// Two replies, the second sent only once the first is shown, so that it
	// can only be seen by following. The first has a line break, which must
	// not break the table.
	replies := []struct{ sent, shown string }{
		{"Да,\nоплатил", "Да, оплатил"},
		{long, string([]rune(long)[:59]) + "…"}, // cut to the column
	}
	for _, r := range replies {
		if err := h.net.Phones().Send(customer, own, r.sent); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, "the reply printed", func() bool { return strings.Contains(out.String(), r.shown) })
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("inbox --follow ended with %d, stderr %q: Ctrl-C is its normal end", code, errOut.String())
	}
	ls := outputLines(out.String())
	if len(ls) != 3 || !strings.HasPrefix(ls[0], "ID     RECEIVED            FROM             MODEM            TEXT") {
		t.Fatalf("want a header and two rows, each reply once:\n%s", out.String())
	}
	for i, r := range replies {
		row := ls[i+1]
		if !strings.HasSuffix(row, " "+r.shown) || !strings.Contains(row, " "+customer+" ") {
			t.Errorf("row %q, want the sender %s and the text %q", row, customer, r.shown)
		}
		if strings.Index(row, customer) != strings.Index(ls[0], "FROM") {
			t.Errorf("row %q: the sender is not under FROM", row)
		}
	}

	// Without --follow the same two, as a table and as the API's JSON.
	code, plain, errText := h.cli("inbox")
	if code != 0 || len(outputLines(plain)) != 3 {
		t.Fatalf("inbox: exit %d, stderr %q:\n%s", code, errText, plain)
	}
	code, raw, _ := h.cli("inbox", "--json")
	var page struct {
		Messages []struct{ From, Text string }
	}
	if code != 0 || json.Unmarshal([]byte(raw), &page) != nil || len(page.Messages) != 2 ||
		page.Messages[0].Text != replies[0].sent || page.Messages[1].From != customer {
		t.Fatalf("inbox --json: exit %d: %s", code, raw)
	}
	code, none, _ := h.cli("inbox", "--since", "2099-01-01")
	if code != 0 || len(outputLines(none)) != 1 {
		t.Fatalf("inbox --since in the future: exit %d:\n%s", code, none)
	}
}

func TestInboxFollowJSONLines(t *testing.T) {
	h := startClientDaemon(t, "", modemsim.Generic)
	own := h.modems[0].Config().MSISDN
	if err := h.net.Phones().Send("+79161234567", own, "старое"); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "the first reply stored", func() bool {
		_, out, _ := h.cli("inbox", "--json")
		return strings.Contains(out, "старое")
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"inbox", "--follow", "--json", "--addr", h.addr}, &out, &errOut) }()
	pollUntil(t, "the stored reply printed", func() bool { return strings.Contains(out.String(), "старое") })
	if err := h.net.Phones().Send("+79161234567", own, "новое <&>"); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "the new reply printed", func() bool { return strings.Contains(out.String(), "новое <&>") })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	var texts []string
	for _, l := range outputLines(out.String()) {
		var m struct{ Text string }
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q is not one JSON object: %v", l, err)
		}
		texts = append(texts, m.Text)
	}
	if strings.Join(texts, "|") != "старое|новое <&>" {
		t.Fatalf("texts %q, want the old one then the new one, once each", texts)
	}
}
