package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// inboxTexts is what the inbox holds, oldest first.
func inboxTexts(t *testing.T, s *Store) []string {
	t.Helper()
	list, err := s.Inbox.Inbox(context.Background(), 0, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range list {
		texts = append(texts, m.Text)
	}
	return texts
}

// Concatenation references are one byte (or two) and repeat, and some
// senders use the same one for every long message. A part left waiting
// (its siblings never came) must not take the place of a new message's
// part, nor complete it: the new message's text is exactly what was sent,
// and the old part is still stored, incomplete, after its wait.
func TestAStalePartWithTheSameReferenceStaysOutOfANewMessage(t *testing.T) {
	cases := []struct {
		name  string
		after time.Duration // between the stale part and the new message
		order []int         // the new message's parts, as they arrive
	}{
		{"in order, minutes later", 5 * time.Minute, []int{1, 2}},
		{"last part first, minutes later", 5 * time.Minute, []int{2, 1}},
		{"in order, seconds later", 20 * time.Second, []int{1, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := openClocked(t)
			ctx := context.Background()
			part := func(seq int, text string) Received {
				return Received{ICCID: simA, ModemID: "m", Sender: customer, Text: text, Encoding: "ucs2", Plain: true,
					SCTS: clk.Now(), ConcatKey: customer + "|8|7|2", Seq: seq, Total: 2}
			}
			if m, err := s.Inbox.StoreReceived(ctx, part(1, "Старое начало ")); err != nil || m != nil {
				t.Fatalf("the stale part: %v %v", m, err)
			}
			clk.Advance(tc.after)
			texts := map[int]string{1: "Новое сообщение, ", 2: "целиком"}
			var got []string
			for _, seq := range tc.order {
				m, err := s.Inbox.StoreReceived(ctx, part(seq, texts[seq]))
				if err != nil {
					t.Fatal(err)
				}
				if m != nil {
					got = append(got, m.Text)
				}
			}
			if !slices.Equal(got, []string{"Новое сообщение, целиком"}) {
				t.Fatalf("assembled %q, want the new message whole", got)
			}
			clk.Advance(11 * time.Minute) // receive.incomplete_after
			flushed, err := s.Inbox.FlushIncomplete(ctx, clk.Now().Add(-10*time.Minute))
			if err != nil || len(flushed) != 1 || flushed[0].Text != "Старое начало "+gapMarker || flushed[0].Complete {
				t.Fatalf("flushed %+v %v, want the stale part alone", flushed, err)
			}
			want := []string{"Новое сообщение, целиком", "Старое начало " + gapMarker}
			if got := inboxTexts(t, s); !slices.Equal(got, want) {
				t.Fatalf("inbox %q, want %q", got, want)
			}
		})
	}
}
