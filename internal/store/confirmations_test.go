package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// testClock is a settable clock for the store's timestamps.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

const (
	customer = "+79161234567"
	simA     = "8970101000000000001"
	simB     = "8970101000000000002"
)

func openClocked(t *testing.T) (*Store, *testClock) {
	t.Helper()
	clk := &testClock{now: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}
	s, err := Open(t.TempDir(), Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clk
}

func newConf(id string) NewConfirmation {
	return NewConfirmation{ID: id, Phone: customer, Txn: "12345", Amount: ussd.AmountFromKopecks(150000), Currency: "RUB",
		Text: "Платёж 12345: 1 500,00 руб.", Encoding: "ucs2", Parts: 1, CancelWords: []string{"0", "Нет"},
		TTL: 30 * time.Minute, Fingerprint: "fp-" + id}
}

func create(t *testing.T, s *Store, n NewConfirmation) (*Confirmation, *Message) {
	t.Helper()
	c, m, existed, err := s.Confirmations.CreateConfirmation(context.Background(), n)
	if err != nil || existed {
		t.Fatalf("create %s: existed=%v err=%v", n.ID, existed, err)
	}
	return c, m
}

// sendThrough walks the confirmation's SMS through a modem as the owner does.
func sendThrough(t *testing.T, s *Store, m *Message, iccid string, mr int) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Messages.BeginPart(ctx, m.ID, 1, iccid, "modem-"+iccid[len(iccid)-1:]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Messages.PartSent(ctx, m.ID, 1, mr, time.Time{}); err != nil {
		t.Fatal(err)
	}
}

func getConf(t *testing.T, s *Store, id string) *Confirmation {
	t.Helper()
	c, err := s.Confirmations.GetConfirmation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfirmationIsStoredWithItsSMSAndIsIdempotentOnID(t *testing.T) {
	s, _ := openClocked(t)
	ctx := context.Background()
	c, m := create(t, s, newConf("pay-1"))
	if c.State != payment.Queued || c.Version != 1 || c.MessageID != m.ID {
		t.Fatalf("created %+v", c)
	}
	stored, err := s.Messages.GetMessage(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.Report || stored.To != customer || stored.Text != c.Text || stored.State != Queued || !IsConfirmationMessage(stored) {
		t.Fatalf("its SMS: %+v", stored)
	}
	if !stored.ExpiresAt.Equal(c.ExpiresAt) {
		t.Fatalf("SMS expires %v, confirmation %v", stored.ExpiresAt, c.ExpiresAt)
	}
	again, msg, existed, err := s.Confirmations.CreateConfirmation(ctx, newConf("pay-1"))
	if err != nil || !existed || msg != nil || again.MessageID != m.ID {
		t.Fatalf("repeat: existed=%v msg=%v err=%v", existed, msg, err)
	}
	other := newConf("pay-1")
	other.Fingerprint = "another request"
	if _, _, _, err := s.Confirmations.CreateConfirmation(ctx, other); !errors.Is(err, ErrConflict) {
		t.Fatalf("same id, other request: %v, want ErrConflict", err)
	}
	queue := queue(t, s)
	if len(queue) != 1 {
		t.Fatalf("%d messages queued, want the one SMS", len(queue))
	}
}

func TestConfirmationFollowsItsSMS(t *testing.T) {
	cases := []struct {
		name       string
		outcome    func(t *testing.T, s *Store, m *Message)
		want       payment.State
		wantReason string
		wantICCID  string
	}{
		{"sent", func(t *testing.T, s *Store, m *Message) { sendThrough(t, s, m, simA, 7) }, payment.Sent, "", simA},
		{"outcome unknown: a reply may still come", func(t *testing.T, s *Store, m *Message) {
			s.Messages.BeginPart(context.Background(), m.ID, 1, simA, "m")
			if _, err := s.Messages.PartUnknown(context.Background(), m.ID, 1, ErrorInfo{Code: "outcome_unknown"}, false); err != nil {
				t.Fatal(err)
			}
		}, payment.Sent, "", simA},
		{"SIM failure", func(t *testing.T, s *Store, m *Message) {
			s.Messages.BeginPart(context.Background(), m.ID, 1, simA, "m")
			if _, err := s.Messages.PartNotSent(context.Background(), m.ID, 1, ErrorInfo{Code: "CMS 310", Message: "SIM not inserted"}, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}, payment.Failed, "SIM failure: the SMS could not be sent (CMS 310)", simA},
		{"expired unsent", func(t *testing.T, s *Store, m *Message) {
			if _, err := s.Messages.Expire(context.Background(), m.ID); err != nil {
				t.Fatal(err)
			}
		}, payment.Failed, payment.ReasonExpiredUnsent, ""},
		{"not deliverable", func(t *testing.T, s *Store, m *Message) {
			sendThrough(t, s, m, simA, 9)
			if _, err := s.Inbox.RecordStatusReport(context.Background(), StatusReport{ICCID: simA, MR: 9, Recipient: customer,
				Status: 0x41, Outcome: ReportFailed, Meaning: "incompatible destination"}); err != nil {
				t.Fatal(err)
			}
		}, payment.Failed, "not deliverable (report 0x41)", simA},
		{"delivered stays sent", func(t *testing.T, s *Store, m *Message) {
			sendThrough(t, s, m, simB, 3)
			s.Inbox.RecordStatusReport(context.Background(), StatusReport{ICCID: simB, MR: 3, Recipient: customer, Outcome: ReportDelivered})
		}, payment.Sent, "", simB},
		{"SMS cancelled through the messages API", func(t *testing.T, s *Store, m *Message) {
			if _, err := s.Messages.Cancel(context.Background(), m.ID); err != nil {
				t.Fatal(err)
			}
		}, payment.Cancelled, payment.ReasonMessageCancelled, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openClocked(t)
			c, m := create(t, s, newConf("pay"))
			tc.outcome(t, s, m)
			got := getConf(t, s, c.ID)
			if got.State != tc.want || got.Reason != tc.wantReason || got.ICCID != tc.wantICCID {
				t.Fatalf("got %s %q via %q, want %s %q via %q", got.State, got.Reason, got.ICCID, tc.want, tc.wantReason, tc.wantICCID)
			}
			if tc.want.Final() == got.FinalAt.IsZero() {
				t.Fatalf("final_at %v for state %s", got.FinalAt, got.State)
			}
		})
	}
}

func TestRepliesDecideOnlyTheirOwnConfirmation(t *testing.T) {
	sent := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		from     string
		iccid    string
		text     string
		plain    bool
		scts     time.Time
		want     payment.State
		wantText bool // the reply is linked
	}{
		{"any text confirms", "89161234567", simA, "Да", true, sent.Add(time.Minute), payment.Confirmed, true},
		{"cancel word", "+79161234567", simA, "0", true, sent.Add(time.Minute), payment.Cancelled, true},
		{"cancel word with spaces and case", "9161234567", simA, "\u00a0нет \n", true, sent.Add(time.Minute), payment.Cancelled, true},
		{"long reply starting with the cancel word confirms", customer, simA, "0 рублей? ну ладно, да", true, sent.Add(time.Minute), payment.Confirmed, true},
		{"blank reply says nothing", customer, simA, " \u2003\t", true, sent.Add(time.Minute), payment.Sent, false},
		{"not plain text", customer, simA, "Да", false, sent.Add(time.Minute), payment.Sent, false},
		{"another phone", "+79160000000", simA, "Да", true, sent.Add(time.Minute), payment.Sent, false},
		{"alphanumeric sender", "MTS", simA, "Да", true, sent.Add(time.Minute), payment.Sent, false},
		{"to another SIM", customer, simB, "Да", true, sent.Add(time.Minute), payment.Sent, false},
		{"network time after the deadline", customer, simA, "Да", true, sent.Add(31 * time.Minute), payment.Sent, false},
		{"written before the SMS went out", customer, simA, "Да", true, sent.Add(-10 * time.Minute), payment.Sent, false},
		{"read late but written in time", customer, simA, "Да", true, sent.Add(29 * time.Minute), payment.Confirmed, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := openClocked(t)
			c, m := create(t, s, newConf("pay"))
			sendThrough(t, s, m, simA, 1)
			clk.Advance(2 * time.Hour) // the reply is read long after it was written
			in, err := s.Inbox.StoreReceived(context.Background(), Received{ICCID: tc.iccid, ModemID: "m", Sender: tc.from, Text: tc.text,
				Encoding: "ucs2", Plain: tc.plain, SCTS: tc.scts})
			if err != nil {
				t.Fatal(err)
			}
			got := getConf(t, s, c.ID)
			if got.State != tc.want {
				t.Fatalf("state %s, want %s", got.State, tc.want)
			}
			if linked := got.ReplyID == in.ID; linked != tc.wantText {
				t.Fatalf("reply linked=%v (reply_inbox_id %d), want %v", linked, got.ReplyID, tc.wantText)
			}
		})
	}
}

// A daemon killed between a payment's PDU and the modem's answer finds the
// SMS unknown at its restart; a customer who answered while it was down
// must still be heard, although the restart came long after the reply was
// written.
func TestAReplyWrittenWhileTheDaemonWasDownDecidesAnUnknownSMS(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		down time.Duration // from the PDU to the restart
		scts time.Duration // the reply's network time, after the PDU
		want payment.State
	}{
		{"down ten minutes, answered after one", 10 * time.Minute, time.Minute, payment.Confirmed},
		{"down briefly", 30 * time.Second, 10 * time.Second, payment.Confirmed},
		{"answered before the SMS went out", 10 * time.Minute, -10 * time.Minute, payment.Sent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := openClocked(t)
			c, m := create(t, s, newConf("pay"))
			pdu := clk.Now()
			if _, err := s.Messages.BeginPart(ctx, m.ID, 1, simA, "modem-1"); err != nil {
				t.Fatal(err)
			}
			clk.Advance(tc.down)
			if n, err := s.Messages.RecoverInFlight(ctx, false); err != nil || n != 1 {
				t.Fatalf("recover: %d %v", n, err)
			}
			if got := getConf(t, s, c.ID); got.State != payment.Sent || !got.SentAt.Equal(pdu) {
				t.Fatalf("after the restart: %s sent_at %s, want sent at the PDU %s", got.State, got.SentAt, pdu)
			}
			after, err := s.Messages.GetMessage(ctx, m.ID)
			if err != nil || after.State != Unknown || !after.PartList[0].SentAt.Equal(pdu) {
				t.Fatalf("the SMS after the restart: %v %+v", err, after)
			}
			clk.Advance(time.Minute)
			if _, err := s.Inbox.StoreReceived(ctx, Received{ICCID: simA, ModemID: "modem-1", Sender: customer, Text: "Да",
				Encoding: "ucs2", Plain: true, SCTS: pdu.Add(tc.scts)}); err != nil {
				t.Fatal(err)
			}
			if got := getConf(t, s, c.ID); got.State != tc.want {
				t.Fatalf("state %s, want %s", got.State, tc.want)
			}
		})
	}
}

func TestFirstPartOfALongReplyDecides(t *testing.T) {
	sent := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	part := func(seq int, text string, plain bool) Received {
		return Received{ICCID: simA, ModemID: "m", Sender: customer, Text: text, Encoding: "ucs2", Plain: plain,
			SCTS: sent.Add(time.Minute), ConcatKey: customer + "|7", Seq: seq, Total: 2}
	}
	cases := []struct {
		name      string
		parts     []Received
		want      payment.State
		flush     bool // the missing part never comes
		wantReply string
	}{
		{"first part alone", []Received{part(1, "Да, подтверждаю ", true)}, payment.Confirmed, true, "Да, подтверждаю " + gapMarker},
		{"second part first", []Received{part(2, "оплату", true), part(1, "Да, подтверждаю ", true)}, payment.Confirmed, false, "Да, подтверждаю оплату"},
		{"second part alone waits for the first", []Received{part(2, "оплату", true)}, payment.Sent, false, ""},
		{"not plain text", []Received{part(1, "Да", false)}, payment.Sent, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := openClocked(t)
			ctx := context.Background()
			c, m := create(t, s, newConf("pay"))
			sendThrough(t, s, m, simA, 1)
			clk.Advance(2 * time.Minute)
			var assembled *InboxMessage
			for _, p := range tc.parts {
				in, err := s.Inbox.StoreReceived(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				if in != nil {
					assembled = in
				}
			}
			got := getConf(t, s, c.ID)
			if got.State != tc.want {
				t.Fatalf("state %s, want %s", got.State, tc.want)
			}
			if tc.flush {
				if got.ReplyID != 0 {
					t.Fatalf("reply_inbox_id %d before the reply was assembled", got.ReplyID)
				}
				clk.Advance(time.Hour)
				flushed, err := s.Inbox.FlushIncomplete(ctx, clk.Now())
				if err != nil || len(flushed) != 1 {
					t.Fatalf("flush: %v %v", flushed, err)
				}
				assembled = flushed[0]
				got = getConf(t, s, c.ID)
				if got.State != tc.want || got.Version != 3 {
					t.Fatalf("after the flush: %s v%d, want %s v3", got.State, got.Version, tc.want)
				}
			}
			if tc.wantReply == "" {
				if got.ReplyID != 0 {
					t.Fatalf("reply_inbox_id %d for an undecided confirmation", got.ReplyID)
				}
				return
			}
			if assembled == nil || got.ReplyID != assembled.ID || assembled.Text != tc.wantReply {
				t.Fatalf("reply_inbox_id %d, assembled %+v; want the reply %q linked", got.ReplyID, assembled, tc.wantReply)
			}
		})
	}
}

// The rest of a long reply arrives after its first part decided, and after
// the customer's next payment went out through the freed SIM: it must not
// answer that one too.
func TestTheRestOfALongReplyDecidesNothingMore(t *testing.T) {
	for _, lost := range []bool{false, true} {
		t.Run(fmt.Sprintf("second part lost=%v", lost), func(t *testing.T) {
			s, clk := openClocked(t)
			ctx := context.Background()
			first, m1 := create(t, s, newConf("pay-1"))
			sendThrough(t, s, m1, simA, 1)
			clk.Advance(time.Minute)
			part := func(seq int, text string) Received {
				return Received{ICCID: simA, ModemID: "m", Sender: customer, Text: text, Encoding: "ucs2", Plain: true,
					SCTS: clk.Now(), ConcatKey: customer + "|9", Seq: seq, Total: 2}
			}
			if _, err := s.Inbox.StoreReceived(ctx, part(1, "Да, подтверждаю ")); err != nil {
				t.Fatal(err)
			}
			clk.Advance(5 * time.Second)
			second, m2 := create(t, s, newConf("pay-2"))
			sendThrough(t, s, m2, simA, 2)
			clk.Advance(5 * time.Second)
			var whole *InboxMessage
			if lost {
				clk.Advance(time.Hour)
				flushed, err := s.Inbox.FlushIncomplete(ctx, clk.Now())
				if err != nil || len(flushed) != 1 {
					t.Fatalf("flush: %v %v", flushed, err)
				}
				whole = flushed[0]
			} else {
				var err error
				if whole, err = s.Inbox.StoreReceived(ctx, part(2, "оплату")); err != nil || whole == nil {
					t.Fatalf("second part: %v %v", whole, err)
				}
			}
			if got := getConf(t, s, second.ID); got.State != payment.Sent || got.ReplyID != 0 {
				t.Fatalf("the next payment was decided by the earlier reply: %+v", got)
			}
			if got := getConf(t, s, first.ID); got.State != payment.Confirmed || got.ReplyID != whole.ID {
				t.Fatalf("the first payment: %+v, want confirmed by inbox %d", got, whole.ID)
			}
		})
	}
}

// The first part of an assembled reply, sent again by the network with a
// new timestamp, must not answer the payment that went out since.
func TestAFirstPartSentAgainDecidesNothing(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	first, m1 := create(t, s, newConf("pay-1"))
	sendThrough(t, s, m1, simA, 1)
	part := func(seq int, text string) Received {
		return Received{ICCID: simA, ModemID: "m", Sender: customer, Text: text, Encoding: "ucs2", Plain: true,
			SCTS: clk.Now(), ConcatKey: customer + "|5", Seq: seq, Total: 2}
	}
	clk.Advance(time.Minute)
	s.Inbox.StoreReceived(ctx, part(1, "Да, подтверждаю "))
	s.Inbox.StoreReceived(ctx, part(2, "оплату"))
	if got := getConf(t, s, first.ID); got.State != payment.Confirmed {
		t.Fatalf("first payment %s", got.State)
	}
	second, m2 := create(t, s, newConf("pay-2"))
	sendThrough(t, s, m2, simA, 2)
	clk.Advance(20 * time.Second)
	if _, err := s.Inbox.StoreReceived(ctx, part(1, "Да, подтверждаю ")); err != nil {
		t.Fatal(err)
	}
	if got := getConf(t, s, second.ID); got.State != payment.Sent {
		t.Fatalf("the next payment was decided by a part sent again: %s", got.State)
	}
}

func TestFirstFinalStateWins(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	c, m := create(t, s, newConf("pay"))
	sendThrough(t, s, m, simA, 1)
	reply := func(text string) {
		clk.Advance(time.Second)
		if _, err := s.Inbox.StoreReceived(ctx, Received{ICCID: simA, Sender: customer, Text: text, Plain: true, SCTS: clk.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	reply("Да")
	reply("0")
	if _, err := s.Confirmations.ExpireConfirmation(ctx, c.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("expire after confirmation: %v, want ErrConflict", err)
	}
	if _, err := s.Confirmations.FailConfirmation(ctx, c.ID, "SIM lost"); !errors.Is(err, ErrConflict) {
		t.Fatalf("fail after confirmation: %v, want ErrConflict", err)
	}
	got, _, _, err := s.Confirmations.CancelConfirmation(ctx, c.ID, nil)
	if !errors.Is(err, ErrConflict) || got == nil || got.State != payment.Confirmed {
		t.Fatalf("cancel after confirmation: %v %+v", err, got)
	}
	s.Inbox.RecordStatusReport(ctx, StatusReport{ICCID: simA, MR: 1, Recipient: customer, Status: 0x41, Outcome: ReportFailed})
	final := getConf(t, s, c.ID)
	if final.State != payment.Confirmed || final.Version != 3 {
		t.Fatalf("after late events: %s v%d, want confirmed v3", final.State, final.Version)
	}
	rows, err := s.rdb.Query("SELECT type, object_seq FROM events WHERE kind='confirmation' ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got2 []string
	for rows.Next() {
		var typ string
		var seq int
		rows.Scan(&typ, &seq)
		got2 = append(got2, typ+"#"+string(rune('0'+seq)))
	}
	want := []string{"confirmation.queued#1", "confirmation.sent#2", "confirmation.confirmed#3"}
	if len(got2) != len(want) {
		t.Fatalf("events %v, want %v", got2, want)
	}
	for i := range want {
		if got2[i] != want[i] {
			t.Fatalf("events %v, want %v", got2, want)
		}
	}
}

func TestCancelThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	notice := &CancelNotice{Text: "Платёж 12345 отменён.", Encoding: "ucs2", TTL: time.Hour}
	t.Run("queued: its SMS is cancelled, no notice", func(t *testing.T) {
		s, _ := openClocked(t)
		c, m := create(t, s, newConf("pay"))
		got, unsent, noticeMsg, err := s.Confirmations.CancelConfirmation(ctx, c.ID, notice)
		if err != nil || got.State != payment.Cancelled || got.Reason != payment.ReasonAPICancelled {
			t.Fatalf("cancel: %v %+v", err, got)
		}
		if unsent == nil || unsent.ID != m.ID || unsent.State != Cancelled || noticeMsg != nil {
			t.Fatalf("unsent %+v notice %+v", unsent, noticeMsg)
		}
		if after := getConf(t, s, c.ID); after.State != payment.Cancelled || after.Version != 2 {
			t.Fatalf("the SMS's cancellation changed the confirmation again: %+v", after)
		}
	})
	t.Run("sent: a notice goes through the same SIM", func(t *testing.T) {
		s, _ := openClocked(t)
		c, m := create(t, s, newConf("pay"))
		sendThrough(t, s, m, simB, 4)
		_, unsent, noticeMsg, err := s.Confirmations.CancelConfirmation(ctx, c.ID, notice)
		if err != nil || unsent != nil || noticeMsg == nil {
			t.Fatalf("cancel: %v unsent=%v notice=%v", err, unsent, noticeMsg)
		}
		if noticeMsg.To != customer || noticeMsg.ICCID != simB || noticeMsg.Text != notice.Text || IsConfirmationMessage(noticeMsg) {
			t.Fatalf("notice %+v", noticeMsg)
		}
		queue := queue(t, s)
		if len(queue) != 1 || queue[0].ID != noticeMsg.ID || queue[0].ICCID != simB {
			t.Fatalf("queue %+v", queue)
		}
	})
	t.Run("being sent: the SMS is never retried; the notice goes if it may have been read", func(t *testing.T) {
		for how, want := range map[string]MessageState{
			"send failed before the PDU": Failed,  // it never went out
			"at-least-once restart":      Unknown, // it may have gone out
		} {
			t.Run(how, func(t *testing.T) {
				s, clk := openClocked(t)
				c, m := create(t, s, newConf("pay"))
				if _, err := s.Messages.BeginPart(ctx, m.ID, 1, simA, "modem-1"); err != nil {
					t.Fatal(err)
				}
				got, unsent, noticeMsg, err := s.Confirmations.CancelConfirmation(ctx, c.ID, notice)
				if err != nil || got.State != payment.Cancelled || unsent != nil || noticeMsg == nil || noticeMsg.ICCID != simA {
					t.Fatalf("cancel: %v %+v unsent=%v notice=%+v", err, got, unsent, noticeMsg)
				}
				var after *Message
				if how == "send failed before the PDU" {
					after, err = s.Messages.PartNotSent(ctx, m.ID, 1, ErrorInfo{Code: "CMS 38", Message: "network out of order"}, clk.Now().Add(time.Minute))
				} else {
					_, err = s.Messages.RecoverInFlight(ctx, true)
					if err == nil {
						after, err = s.Messages.GetMessage(ctx, m.ID)
					}
				}
				if err != nil || after.State != want || after.Error == nil || want == Failed && after.Error.Code != "confirmation_cancelled" {
					t.Fatalf("the SMS of a cancelled payment after its send: %v %+v, want %s", err, after, want)
				}
				// The notice goes only if the SMS may have reached the customer.
				queue := queue(t, s)
				notice, _ := s.Messages.GetMessage(ctx, noticeMsg.ID)
				if want == Failed && (len(queue) != 0 || notice.State != Cancelled) {
					t.Fatalf("queue %+v, notice %s; want the notice cancelled", queue, notice.State)
				}
				if want == Unknown && (len(queue) != 1 || queue[0].ID != noticeMsg.ID) {
					t.Fatalf("queue %+v, want only the notice", queue)
				}
				if final := getConf(t, s, c.ID); final.State != payment.Cancelled || final.Version != 2 {
					t.Fatalf("confirmation after its SMS failed: %+v", final)
				}
			})
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		s, _ := openClocked(t)
		if _, _, _, err := s.Confirmations.CancelConfirmation(ctx, "nope", nil); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%v, want ErrNotFound", err)
		}
	})
}

func TestPendingOnSIMCoversQueuedBoundAndSent(t *testing.T) {
	s, _ := openClocked(t)
	ctx := context.Background()
	pending := func(iccid, except string) bool {
		t.Helper()
		ok, err := s.Confirmations.PendingOnSIM(ctx, customer, iccid, except)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	_, m1 := create(t, s, newConf("first"))
	if pending(simA, "") {
		t.Fatal("an unbound queued confirmation blocks a SIM")
	}
	if _, err := s.Messages.BeginPart(ctx, m1.ID, 1, simA, "m"); err != nil {
		t.Fatal(err)
	}
	if !pending(simA, "") || pending(simB, "") || pending(simA, m1.ID) {
		t.Fatal("a confirmation being sent through A must block A only, and not itself")
	}
	s.Messages.PartSent(ctx, m1.ID, 1, 1, time.Time{})
	if !pending(simA, "") {
		t.Fatal("a sent confirmation must block its SIM")
	}
	s.Inbox.StoreReceived(ctx, Received{ICCID: simA, Sender: customer, Text: "ok", Plain: true, SCTS: time.Date(2026, 3, 10, 9, 1, 0, 0, time.UTC)})
	if pending(simA, "") {
		t.Fatal("a confirmed confirmation still blocks its SIM")
	}
}

func TestPaymentUsageCountsPendingAndConfirmedInTheirWindows(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	monthStart := clk.Now().Add(-48 * time.Hour)
	_, m := create(t, s, newConf("yesterday")) // 1500.00, will fail
	s.Messages.Expire(ctx, m.ID)
	create(t, s, newConf("older")) // 1500.00 pending, counted for the month
	clk.Advance(24 * time.Hour)
	dayStart := clk.Now().Add(-time.Minute)
	n := newConf("today")
	n.Amount = ussd.AmountFromKopecks(25050)
	create(t, s, n)
	u, err := s.Confirmations.PaymentUsage(ctx, customer, dayStart, monthStart)
	if err != nil {
		t.Fatal(err)
	}
	if u.Day.String() != "250.50" || u.Month.String() != "1750.50" || u.DayPayments != 1 {
		t.Fatalf("usage %+v", u)
	}
	refused := errors.New("over the limit")
	over := newConf("too much")
	over.DayStart, over.MonthStart = dayStart, monthStart
	over.Admit = func(u payment.Usage) error {
		if u.Month.Kopecks()+over.Amount.Kopecks() > 300000 {
			return refused
		}
		return nil
	}
	if _, _, _, err := s.Confirmations.CreateConfirmation(ctx, over); !errors.Is(err, refused) {
		t.Fatalf("admit refused, create said %v", err)
	}
	if _, err := s.Confirmations.GetConfirmation(ctx, "too much"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused confirmation was stored: %v", err)
	}
}

func TestListAndDecisionWatch(t *testing.T) {
	s, _ := openClocked(t)
	ctx := context.Background()
	ch, err := s.Confirmations.ConfirmationsChangedSince(ctx, 0)
	if err != nil || ch.Decided || ch.Changed {
		t.Fatalf("empty log: %+v %v", ch, err)
	}
	var msgs []*Message
	for _, id := range []string{"a", "b", "c"} {
		_, m := create(t, s, newConf(id))
		msgs = append(msgs, m)
	}
	ch, _ = s.Confirmations.ConfirmationsChangedSince(ctx, ch.Last)
	if ch.Decided || !ch.Changed {
		t.Fatalf("creating confirmations: %+v, want changed, none decided", ch)
	}
	if later, _ := s.Confirmations.ConfirmationsChangedSince(ctx, ch.Last); later.Changed || later.Last != ch.Last {
		t.Fatalf("nothing happened: %+v after %+v", later, ch)
	}
	s.Messages.Expire(ctx, msgs[1].ID)
	if later, _ := s.Confirmations.ConfirmationsChangedSince(ctx, ch.Last); !later.Decided || !later.Changed {
		t.Fatal("a failed confirmation was not seen as decided")
	}
	page, next, err := s.Confirmations.ListConfirmations(ctx, ConfirmationFilter{Limit: 2})
	if err != nil || len(page) != 2 || page[0].ID != "a" || next == "" {
		t.Fatalf("page 1: %v %d %q", err, len(page), next)
	}
	page, next, _ = s.Confirmations.ListConfirmations(ctx, ConfirmationFilter{Limit: 2, After: next})
	if len(page) != 1 || page[0].ID != "c" || next != "" {
		t.Fatalf("page 2: %d %q", len(page), next)
	}
	failed, _, _ := s.Confirmations.ListConfirmations(ctx, ConfirmationFilter{State: payment.Failed})
	if len(failed) != 1 || failed[0].ID != "b" {
		t.Fatalf("failed filter: %+v", failed)
	}
	if _, _, err := s.Confirmations.ListConfirmations(ctx, ConfirmationFilter{After: "x"}); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}

// The expiry timer is set to the earliest deadline of what is still
// pending; an ended confirmation no longer counts.
func TestNextConfirmationDueIsTheEarliestPendingDeadline(t *testing.T) {
	s, _ := openClocked(t)
	ctx := context.Background()
	if _, ok, err := s.Confirmations.NextConfirmationDue(ctx); ok || err != nil {
		t.Fatalf("no confirmation: ok=%v err=%v", ok, err)
	}
	late, early := newConf("late"), newConf("early")
	early.TTL = 10 * time.Minute
	create(t, s, late)
	ce, me := create(t, s, early)
	if at, ok, err := s.Confirmations.NextConfirmationDue(ctx); !ok || err != nil || !at.Equal(ce.ExpiresAt) {
		t.Fatalf("next due %v ok=%v err=%v, want %v", at, ok, err, ce.ExpiresAt)
	}
	s.Messages.Expire(ctx, me.ID)
	cl, err := s.Confirmations.GetConfirmation(ctx, "late")
	if err != nil {
		t.Fatal(err)
	}
	if at, ok, err := s.Confirmations.NextConfirmationDue(ctx); !ok || err != nil || !at.Equal(cl.ExpiresAt) {
		t.Fatalf("after the early one failed: next due %v ok=%v err=%v, want %v", at, ok, err, cl.ExpiresAt)
	}
}

// A copy of a confirmation the fleet gave to another host goes without a
// trace, but only while its SMS never began: then the copy is this host's.
func TestDropQueuedConfirmationLeavesWhatBeganSending(t *testing.T) {
	s, _ := openClocked(t)
	ctx := context.Background()
	queued, qm := create(t, s, newConf("pay-queued"))
	_, bm := create(t, s, newConf("pay-begun"))
	if _, err := s.Messages.BeginPart(ctx, bm.ID, 1, "8970100000000000001", "m1"); err != nil {
		t.Fatal(err)
	}
	events, _ := s.Events.CountEvents(ctx, 0, nil)
	if err := s.Confirmations.DropQueued(ctx, queued.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Confirmations.GetConfirmation(ctx, queued.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("dropped confirmation still there: %v", err)
	}
	if _, err := s.Messages.GetMessage(ctx, qm.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("its SMS still there: %v", err)
	}
	if after, _ := s.Events.CountEvents(ctx, 0, nil); after != events {
		t.Fatalf("the drop logged %d events", after-events)
	}
	if err := s.Confirmations.DropQueued(ctx, "pay-begun"); !errors.Is(err, ErrConflict) {
		t.Fatalf("dropping one whose SMS began: %v", err)
	}
}

// send.at_least_once sends again a message whose PDU went out without an
// answer, or was out when the daemon crashed; a confirmation's SMS is a
// payment's and never goes twice, whatever its confirmation's state.
func TestAtLeastOnceNeverSendsAPaymentSMSTwice(t *testing.T) {
	ctx := context.Background()
	lost := map[string]func(s *Store, m *Message) error{
		"no answer to the PDU": func(s *Store, m *Message) error {
			_, err := s.Messages.PartUnknown(ctx, m.ID, 1, ErrorInfo{Code: "timeout"}, true)
			return err
		},
		"a crash while sending": func(s *Store, m *Message) error {
			_, err := s.Messages.RecoverInFlight(ctx, true)
			return err
		},
	}
	for how, lose := range lost {
		for _, tc := range []struct {
			kind string
			want MessageState
		}{{"a confirmation's SMS", Unknown}, {"a plain message", Queued}} {
			t.Run(how+"/"+tc.kind, func(t *testing.T) {
				s, _ := openClocked(t)
				var m *Message
				if tc.kind == "a plain message" {
					var err error
					if m, _, err = s.Messages.Accept(ctx, NewMessage{To: customer, Text: "код 1234", Encoding: "ucs2", Parts: 1, TTL: time.Hour}); err != nil {
						t.Fatal(err)
					}
				} else {
					_, m = create(t, s, newConf("pay"))
				}
				if _, err := s.Messages.BeginPart(ctx, m.ID, 1, simA, "modem-1"); err != nil {
					t.Fatal(err)
				}
				if err := lose(s, m); err != nil {
					t.Fatal(err)
				}
				got, err := s.Messages.GetMessage(ctx, m.ID)
				if err != nil || got.State != tc.want {
					t.Fatalf("%v %+v, want %s", err, got, tc.want)
				}
				queued := slices.ContainsFunc(queue(t, s), func(q *Message) bool { return q.ID == m.ID })
				if queued != (tc.want == Queued) {
					t.Fatalf("in the queue: %v, want %v", queued, tc.want == Queued)
				}
			})
		}
	}
}
