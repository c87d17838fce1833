package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
)

func eventTypes(es []Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Type)
	}
	return out
}

func TestEventsPageByIDAndFilterByType(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	m := accept(t, s, NewMessage{Text: "Код 1"}) // accepting appends no event
	if _, err := s.Messages.Cancel(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Inbox.StoreReceived(ctx, Received{ICCID: "8970101", ModemID: "a", Sender: "+79160000001", Text: "Да", Encoding: "gsm7", Plain: true, SCTS: time.Unix(1764000000, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Events.AppendEvent(ctx, "modem.down", "modem", "imei-1", 3, map[string]string{"state": "down"}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Events.Events(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := eventTypes(all), []string{"message.cancelled", "sms.received", "modem.down"}; !slices.Equal(got, want) {
		t.Fatalf("log %v, want %v", got, want)
	}
	var msg api.Message
	if err := json.Unmarshal(all[0].Data, &msg); err != nil || msg.ID != m.ID || msg.State != Cancelled {
		t.Fatalf("message.cancelled payload %s (%v)", all[0].Data, err)
	}
	if o := all[0].Object; o.Kind != "message" || o.ID != m.ID || o.Seq != 2 {
		t.Fatalf("object %+v", o)
	}
	last, err := s.Events.LastEventID(ctx)
	if err != nil || last != all[2].ID {
		t.Fatalf("LastEventID %d %v, want %d", last, err, all[2].ID)
	}
	cases := []struct {
		name string
		f    EventFilter
		want []string
	}{
		{"after the first", EventFilter{After: all[0].ID}, []string{"sms.received", "modem.down"}},
		{"one per page", EventFilter{After: all[0].ID, Limit: 1}, []string{"sms.received"}},
		{"up to a bound", EventFilter{Upto: all[1].ID}, []string{"message.cancelled", "sms.received"}},
		{"exact type", EventFilter{Types: EventTypes{"modem.down"}}, []string{"modem.down"}},
		{"prefix", EventFilter{Types: EventTypes{"message.*"}}, []string{"message.cancelled"}},
		{"two patterns", EventFilter{Types: EventTypes{"sms.*", "modem.down"}}, []string{"sms.received", "modem.down"}},
		{"star", EventFilter{Types: EventTypes{"*"}}, []string{"message.cancelled", "sms.received", "modem.down"}},
		{"bound and type", EventFilter{Upto: all[1].ID, Types: EventTypes{"sms.*", "modem.*"}}, []string{"sms.received"}},
		{"prefix is not a substring", EventFilter{Types: EventTypes{"messag.*"}}, nil},
		{"type is not a prefix", EventFilter{Types: EventTypes{"message"}}, nil},
	}
	for _, c := range cases {
		got, err := s.Events.Events(ctx, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(eventTypes(got), c.want) {
			t.Errorf("%s: %v, want %v", c.name, eventTypes(got), c.want)
		}
		for _, typ := range []string{"message.cancelled", "sms.received", "modem.down"} {
			if c.f.Types.Match(typ) != slices.Contains(c.want, typ) && c.f.After == 0 && c.f.Upto == 0 {
				t.Errorf("%s: Match(%q) disagrees with the query", c.name, typ)
			}
		}
		n, err := s.Events.CountEvents(ctx, c.f.After, c.f.Types)
		if err != nil {
			t.Fatal(err)
		}
		if c.f.Limit == 0 && c.f.Upto == 0 && n != int64(len(c.want)) {
			t.Errorf("%s: CountEvents %d, want %d", c.name, n, len(c.want))
		}
	}
	if _, err := s.Events.GetEvent(ctx, last+1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetEvent of a missing id: %v", err)
	}
}

func TestWebhookCursorNeverMovesBackAndGiveUpKeepsTheEvent(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	const ep = "https://pay.example/hook"
	c, err := s.Deliveries.GetWebhookCursor(ctx, ep)
	if err != nil || c.Cursor != 0 || c.Attempts != 0 {
		t.Fatalf("new endpoint: %+v %v", c, err)
	}
	first := time.UnixMilli(1764000000000).UTC()
	if err := s.Deliveries.SaveWebhookCursor(ctx, WebhookCursor{Endpoint: ep, Cursor: 5, HeadEvent: 6, Attempts: 3, FirstTry: first, LastError: "HTTP 503"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Deliveries.SaveWebhookCursor(ctx, WebhookCursor{Endpoint: ep, Cursor: 2, HeadEvent: 6, Attempts: 4, FirstTry: first, LastError: "HTTP 502"}); err != nil {
		t.Fatal(err)
	}
	c, _ = s.Deliveries.GetWebhookCursor(ctx, ep)
	if c.Cursor != 5 || c.Attempts != 4 || !c.FirstTry.Equal(first) || c.LastError != "HTTP 502" {
		t.Fatalf("after a stale save: %+v", c)
	}
	if err := s.Events.AppendEvent(ctx, "modem.down", "modem", "m", 1, map[string]int{}); err != nil {
		t.Fatal(err)
	}
	ev, _ := s.Events.Events(ctx, EventFilter{})
	c.HeadEvent = ev[0].ID
	if err := s.Deliveries.GiveUp(ctx, c); err != nil {
		t.Fatal(err)
	}
	after, _ := s.Deliveries.GetWebhookCursor(ctx, ep)
	if after.Cursor != max(5, ev[0].ID) || after.Attempts != 0 || after.LastError != "" {
		t.Fatalf("after giving up: %+v", after)
	}
	dl, err := s.Deliveries.DeadLetters(ctx, ep, 0, 10)
	if err != nil || len(dl) != 1 {
		t.Fatalf("dead letters %v %v", dl, err)
	}
	if d := dl[0]; d.EventID != ev[0].ID || d.EventType != "modem.down" || d.Attempts != 4 || d.LastError != "HTTP 502" {
		t.Fatalf("dead letter %+v", d)
	}
	if n, _ := s.Deliveries.CountDeadLetters(ctx, ep); n != 1 {
		t.Fatalf("count %d", n)
	}
	if err := s.Deliveries.DeadLetterRetried(ctx, dl[0].ID, false, "HTTP 500"); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Deliveries.GetDeadLetter(ctx, dl[0].ID); d.Attempts != 5 || d.LastError != "HTTP 500" {
		t.Fatalf("after a failed retry: %+v", d)
	}
	if err := s.Deliveries.DeadLetterRetried(ctx, dl[0].ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deliveries.GetDeadLetter(ctx, dl[0].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delivered letter still there: %v", err)
	}
	if err := s.Deliveries.DeadLetterRetried(ctx, dl[0].ID, true, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retry of a missing letter: %v", err)
	}
}
