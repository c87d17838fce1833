package store

import (
	"context"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/payment"
)

// A long reply whose second part is late past receive.incomplete_after is
// stored incomplete, deciding the payment by its first part; the customer's
// next payment goes out through the freed SIM. What the network brings of
// that reply afterwards (the late part itself, with its original timestamp,
// or the first part again, newly stamped) must neither answer the next
// payment nor store the first part a second time.
func TestPartsOfAFlushedReplyArrivingLaterDecideNothing(t *testing.T) {
	cases := []struct {
		name string
		late func(sctsOfReply, now time.Time) Received
		// messages is what the inbox holds in the end: the incomplete reply,
		// and the late part once its own wait is over (nothing is lost).
		messages []string
	}{
		{"the missing part", func(scts, _ time.Time) Received {
			return Received{Seq: 2, Text: "оплату", SCTS: scts}
		}, []string{"Да, подтверждаю " + gapMarker, gapMarker + "оплату"}},
		{"the first part sent again", func(_, now time.Time) Received {
			return Received{Seq: 1, Text: "Да, подтверждаю ", SCTS: now}
		}, []string{"Да, подтверждаю " + gapMarker}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := openClocked(t)
			ctx := context.Background()
			part := func(r Received) Received {
				r.ICCID, r.ModemID, r.Sender, r.Encoding, r.Plain = simA, "m", customer, "ucs2", true
				r.ConcatKey, r.Total = customer+"|11", 2
				return r
			}
			first, m1 := create(t, s, newConf("pay-1"))
			sendThrough(t, s, m1, simA, 1)
			clk.Advance(time.Minute)
			replied := clk.Now()
			if _, err := s.Inbox.StoreReceived(ctx, part(Received{Seq: 1, Text: "Да, подтверждаю ", SCTS: replied})); err != nil {
				t.Fatal(err)
			}
			if got := getConf(t, s, first.ID); got.State != payment.Confirmed {
				t.Fatalf("the first payment is %s after the first part", got.State)
			}
			clk.Advance(5 * time.Second)
			second, m2 := create(t, s, newConf("pay-2"))
			sendThrough(t, s, m2, simA, 2)
			clk.Advance(11 * time.Minute) // receive.incomplete_after
			if flushed, err := s.Inbox.FlushIncomplete(ctx, clk.Now().Add(-10*time.Minute)); err != nil || len(flushed) != 1 {
				t.Fatalf("flush: %v %v", flushed, err)
			}
			clk.Advance(time.Minute)
			if _, err := s.Inbox.StoreReceived(ctx, part(tc.late(replied, clk.Now()))); err != nil {
				t.Fatal(err)
			}
			clk.Advance(11 * time.Minute)
			if _, err := s.Inbox.FlushIncomplete(ctx, clk.Now().Add(-10*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if got := getConf(t, s, second.ID); got.State != payment.Sent || got.ReplyID != 0 {
				t.Fatalf("the next payment was decided by a part of the earlier reply: %s, reply %d", got.State, got.ReplyID)
			}
			list, err := s.Inbox.Inbox(ctx, 0, time.Time{}, 10)
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			for _, m := range list {
				texts = append(texts, m.Text)
			}
			if len(texts) != len(tc.messages) {
				t.Fatalf("inbox %q, want %q", texts, tc.messages)
			}
			for i := range texts {
				if texts[i] != tc.messages[i] {
					t.Fatalf("inbox %q, want %q", texts, tc.messages)
				}
			}
		})
	}
}
