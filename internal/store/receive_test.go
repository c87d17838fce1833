package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

func sentMessage(t *testing.T, s *Store, to string, parts int, mrs ...int) *Message {
	t.Helper()
	ctx := context.Background()
	m := accept(t, s, NewMessage{To: to, Parts: parts, Report: true})
	for i := 1; i <= parts; i++ {
		if _, err := s.Messages.BeginPart(ctx, m.ID, i, "8970101", "modem-a"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Messages.PartSent(ctx, m.ID, i, mrs[i-1], time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestStatusReportsMatchPartsAndFinishMessages(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	m := sentMessage(t, s, "+79161234567", 2, 7, 8)
	rep := func(mr int, outcome ReportOutcome, status int) StatusReport {
		return StatusReport{ICCID: "8970101", MR: mr, Recipient: "+79161234567", Status: status, Outcome: outcome,
			SCTS: time.Unix(1764000000, 0), Discharge: time.Unix(1764000005, 0)}
	}
	changed, err := s.Inbox.RecordStatusReport(ctx, rep(7, ReportDelivered, 0))
	if err != nil || changed != nil {
		t.Fatalf("first of two parts: changed %v err %v", changed, err)
	}
	// The same report read twice (a re-sweep) changes nothing.
	if changed, _ := s.Inbox.RecordStatusReport(ctx, rep(7, ReportDelivered, 0)); changed != nil {
		t.Fatal("duplicate report changed the message")
	}
	changed, err = s.Inbox.RecordStatusReport(ctx, rep(8, ReportDelivered, 0))
	if err != nil || changed == nil || changed.State != Delivered {
		t.Fatalf("last part: %+v %v", changed, err)
	}

	// A report for another recipient or SIM matches nothing and stays visible.
	other := rep(8, ReportDelivered, 0)
	other.Recipient = "+79990000000"
	if changed, _ := s.Inbox.RecordStatusReport(ctx, other); changed != nil {
		t.Fatal("report for another recipient matched")
	}
	if n, _ := s.Inbox.UnmatchedReports(ctx); n != 1 {
		t.Fatalf("unmatched reports %d, want 1", n)
	}

	failed := sentMessage(t, s, "+79161234567", 1, 9)
	changed, _ = s.Inbox.RecordStatusReport(ctx, rep(9, ReportFailed, 0x41))
	if changed == nil || changed.ID != failed.ID || changed.State != Undelivered {
		t.Fatalf("failed report: %+v", changed)
	}
	_ = m
}

func TestStatusReportPrefersTheNewestPartWhenReferencesWrap(t *testing.T) {
	now := time.Now()
	s, _ := Open(t.TempDir(), Options{Now: func() time.Time { return now }})
	defer s.Close()
	old := sentMessage(t, s, "+79161234567", 1, 5)
	now = now.Add(time.Hour)
	fresh := sentMessage(t, s, "+79161234567", 1, 5)
	changed, _ := s.Inbox.RecordStatusReport(context.Background(), StatusReport{ICCID: "8970101", MR: 5, Recipient: "+79161234567", Outcome: ReportDelivered})
	if changed == nil || changed.ID != fresh.ID {
		t.Fatalf("report went to %v, want the newer message %s (not %s)", changed, fresh.ID, old.ID)
	}
}

func TestReceivedLongMessageIsAssembledOnceWhateverTheOrder(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, Options{})
	ctx := context.Background()
	scts := time.Date(2026, 11, 25, 12, 0, 0, 0, time.FixedZone("MSK", 3*3600))
	part := func(seq int, text string) Received {
		return Received{ICCID: "8970101", ModemID: "m", Sender: "+79161234567", Text: text, Encoding: "ucs2", Plain: true,
			SCTS: scts, ConcatKey: "+79161234567/42/3/8", Seq: seq, Total: 3}
	}
	// Another sender's part with the same reference interleaves.
	if m, _ := s.Inbox.StoreReceived(ctx, Received{ICCID: "8970101", Sender: "+79990000000", Text: "x", SCTS: scts, ConcatKey: "+79990000000/42/3/8", Seq: 1, Total: 3}); m != nil {
		t.Fatal("stranger's first part completed a message")
	}
	for _, p := range []Received{part(3, "ть"), part(1, "Под"), part(3, "ть")} {
		if m, err := s.Inbox.StoreReceived(ctx, p); err != nil || m != nil {
			t.Fatalf("part %d: %v %v", p.Seq, m, err)
		}
	}
	s.Close() // pending parts survive a restart
	s, _ = Open(dir, Options{})
	defer s.Close()
	m, err := s.Inbox.StoreReceived(ctx, part(2, "тверди"))
	if err != nil || m == nil {
		t.Fatalf("last part: %v %v", m, err)
	}
	if m.Text != "Подтвердить" || !m.Complete || m.Parts != 3 || !m.SCTS.Equal(scts) {
		t.Fatalf("assembled %+v", m)
	}
	// Re-reading every part later stores nothing new.
	for _, p := range []Received{part(1, "Под"), part(2, "тверди"), part(3, "ть")} {
		if m, _ := s.Inbox.StoreReceived(ctx, p); m != nil {
			t.Fatalf("re-read part %d stored a second message", p.Seq)
		}
	}
	list, _ := s.Inbox.Inbox(ctx, 0, time.Time{}, 10)
	if len(list) != 1 {
		t.Fatalf("inbox has %d messages, want 1", len(list))
	}
}

// The network sends a part again, newly stamped, when it missed the
// acknowledgement; after its message was assembled that part must not
// become a second, incomplete message (which could even answer the
// customer's next payment). An automated sender's new message with the
// same reference and an identical part is still a new message.
func TestPartSentAgainAfterAssemblyIsNoNewMessage(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	part := func(seq int, text string) Received {
		return Received{ICCID: simA, ModemID: "m", Sender: customer, Text: text, Encoding: "ucs2", Plain: true,
			SCTS: clk.Now(), ConcatKey: customer + "/7/2/8", Seq: seq, Total: 2}
	}
	s.Inbox.StoreReceived(ctx, part(1, "Да, подтверждаю "))
	if m, err := s.Inbox.StoreReceived(ctx, part(2, "оплату")); err != nil || m == nil {
		t.Fatalf("assembly: %v %v", m, err)
	}
	clk.Advance(30 * time.Second)
	if m, err := s.Inbox.StoreReceived(ctx, part(2, "оплату")); err != nil || m != nil {
		t.Fatalf("the part sent again: %v %v", m, err)
	}
	clk.Advance(11 * time.Minute) // receive.incomplete_after
	if flushed, err := s.Inbox.FlushIncomplete(ctx, clk.Now()); err != nil || len(flushed) != 0 {
		t.Fatalf("flushed %v %v", flushed, err)
	}
	// The same reference and tail in a new, whole message: a message.
	s.Inbox.StoreReceived(ctx, part(1, "Ещё раз: "))
	m, err := s.Inbox.StoreReceived(ctx, part(2, "оплату"))
	if err != nil || m == nil || m.Text != "Ещё раз: оплату" {
		t.Fatalf("the new message: %+v %v", m, err)
	}
	if list, _ := s.Inbox.Inbox(ctx, 0, time.Time{}, 10); len(list) != 2 {
		t.Fatalf("inbox has %d messages, want 2", len(list))
	}
}

func TestIncompleteMessageIsStoredAfterItsTime(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	s.Inbox.StoreReceived(ctx, Received{ICCID: "8970101", Sender: "+79161234567", Text: "начало ", ConcatKey: "k", Seq: 1, Total: 3})
	s.Inbox.StoreReceived(ctx, Received{ICCID: "8970101", Sender: "+79161234567", Text: " конец", ConcatKey: "k", Seq: 3, Total: 3})
	got, err := s.Inbox.FlushIncomplete(ctx, time.Now().Add(time.Minute))
	if err != nil || len(got) != 1 {
		t.Fatalf("flushed %v, %v", got, err)
	}
	if got[0].Complete || got[0].Text != "начало "+gapMarker+" конец" {
		t.Fatalf("incomplete message %+v", got[0])
	}
}

func TestSingleSMSReadTwiceIsStoredOnce(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	r := Received{ICCID: "8970101", Sender: "+79161234567", Text: "Да", SCTS: time.Unix(1764000000, 0)}
	first, _ := s.Inbox.StoreReceived(ctx, r)
	second, _ := s.Inbox.StoreReceived(ctx, r)
	if first == nil || second != nil {
		t.Fatalf("first %v second %v", first, second)
	}
}

// A status report finds its part through parts_report, which since
// migration 3 holds only parts sent with a reference: a query the partial
// index does not serve would scan every part ever sent.
func TestAReportFindsItsPartThroughTheIndex(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var a, b, c int
	var plan string
	if err := s.rdb.QueryRow("EXPLAIN QUERY PLAN "+reportPartQuery, "8970", 1, "+79161234567", 0).Scan(&a, &b, &c, &plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "USING INDEX parts_report") {
		t.Fatalf("the report's part is found by %q", plan)
	}
}
