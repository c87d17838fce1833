package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openTest(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// queue is the send queue as the scheduler would load it.
func queue(t *testing.T, s *Store) []*Message {
	t.Helper()
	var q []*Message
	if err := s.Messages.Queue(context.Background(), func(m *Message) { q = append(q, m) }); err != nil {
		t.Fatal(err)
	}
	return q
}

func accept(t *testing.T, s *Store, n NewMessage) *Message {
	t.Helper()
	if n.To == "" {
		n.To = "+79161234567"
	}
	if n.Text == "" {
		n.Text = "Платёж 12345"
	}
	if n.Parts == 0 {
		n.Parts = 1
	}
	if n.Encoding == "" {
		n.Encoding = "ucs2"
	}
	if n.TTL == 0 {
		n.TTL = time.Hour
	}
	m, _, err := s.Messages.Accept(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSecondOpenOfSameDirectoryIsRefused(t *testing.T) {
	dir := t.TempDir()
	openTest(t, dir)
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: got %v, want ErrLocked", err)
	}
}

func TestAcceptedMessageSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := accept(t, s, NewMessage{Text: "Привет", Reference: "pay-1"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	got, err := s.Messages.GetMessage(context.Background(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != "Привет" || got.State != Queued || got.Reference != "pay-1" || len(got.PartList) != 1 {
		t.Fatalf("after reopen: %+v", got)
	}
}

func TestIdempotencyKey(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	n := NewMessage{To: "+79161234567", Text: "a", Encoding: "gsm7", Parts: 1, TTL: time.Hour,
		IdempotencyKey: "k1", IdempotencyFingerprint: "fp-a"}
	first, existed, err := s.Messages.Accept(ctx, n)
	if err != nil || existed {
		t.Fatalf("first: %v existed=%v", err, existed)
	}
	again, existed, err := s.Messages.Accept(ctx, n)
	if err != nil || !existed || again.ID != first.ID {
		t.Fatalf("same request: id %s existed=%v err=%v, want %s", again.ID, existed, err, first.ID)
	}
	n.IdempotencyFingerprint = "fp-b"
	if _, _, err := s.Messages.Accept(ctx, n); !errors.Is(err, ErrConflict) {
		t.Fatalf("other request with same key: %v, want ErrConflict", err)
	}
}

// Work taken from the fleet keeps the id it was accepted under, and taking
// it again (the host stopped before its acknowledgement) keeps one row,
// also when the copy comes in a batch with new work.
func TestAcceptAllAsKeepsOneMessagePerID(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	n := NewMessage{To: "+79161234567", Text: "Платёж 7", Encoding: "ucs2", Parts: 2, TTL: time.Hour}
	first, existed, err := s.Messages.AcceptAllAs(ctx, []MessageAs{{"msg_fleet1", n}})
	if err != nil || existed[0] || first[0].ID != "msg_fleet1" || len(first[0].PartList) != 2 || first[0].ConcatRef == 0 {
		t.Fatalf("first: %+v existed=%v, %v", first, existed, err)
	}
	again, existed, err := s.Messages.AcceptAllAs(ctx, []MessageAs{{"msg_fleet2", n}, {"msg_fleet1", n}})
	if err != nil || existed[0] || !existed[1] || again[1].ConcatRef != first[0].ConcatRef || again[0].ID != "msg_fleet2" {
		t.Fatalf("again: %+v existed=%v, %v", again, existed, err)
	}
	list, _, err := s.Messages.ListMessages(ctx, MessageFilter{})
	if err != nil || len(list) != 2 {
		t.Fatalf("messages: %d, %v", len(list), err)
	}
}

func TestConcatReferencesAreFreshAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	seen := map[int]bool{}
	for round := 0; round < 2; round++ {
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			m := accept(t, s, NewMessage{Parts: 3})
			if m.ConcatRef == 0 || seen[m.ConcatRef] {
				t.Fatalf("round %d: concat ref %d reused or zero (seen %v)", round, m.ConcatRef, seen)
			}
			seen[m.ConcatRef] = true
		}
		s.Close()
	}
}

func TestSendPathStatesAndEvents(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	m := accept(t, s, NewMessage{Parts: 2})
	if _, err := s.Messages.BeginPart(ctx, m.ID, 1, "89701", "modem-a"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Messages.PartSent(ctx, m.ID, 1, 17, time.Time{})
	if got.State != Sending {
		t.Fatalf("after one of two parts: %s, want sending", got.State)
	}
	// The second part must go through the same SIM.
	if _, err := s.Messages.BeginPart(ctx, m.ID, 2, "89702", "modem-b"); !errors.Is(err, ErrConflict) {
		t.Fatalf("part 2 on another SIM: %v, want ErrConflict", err)
	}
	if _, err := s.Messages.BeginPart(ctx, m.ID, 2, "89701", "modem-a"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Messages.PartSent(ctx, m.ID, 2, 18, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != Sent || got.SentAt.IsZero() || got.Attempts != 1 || got.ICCID != "89701" {
		t.Fatalf("sent message: %+v", got)
	}
	if *got.PartList[0].MR != 17 || *got.PartList[1].MR != 18 {
		t.Fatalf("message references: %+v", got.PartList)
	}
	evs := eventsOf(t, s, m.ID)
	want := []string{"message.sending/2", "message.sent/3"}
	if fmt.Sprint(evs) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", evs, want)
	}
}

func eventsOf(t *testing.T, s *Store, id string) []string {
	t.Helper()
	rows, err := s.rdb.Query("SELECT type, object_seq FROM events WHERE object_id=? ORDER BY id", id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ string
		var seq int
		rows.Scan(&typ, &seq)
		out = append(out, fmt.Sprintf("%s/%d", typ, seq))
	}
	return out
}

func TestFailureBeforeDataRequeuesAndFreesTheSIM(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	m := accept(t, s, NewMessage{})
	s.Messages.BeginPart(ctx, m.ID, 1, "89701", "modem-a")
	retry := time.Now().Add(time.Minute)
	got, err := s.Messages.PartNotSent(ctx, m.ID, 1, ErrorInfo{Code: "CMS 38", Message: "network out of order (CMS 38)"}, retry)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != Queued || got.ICCID != "" || got.Error.Code != "CMS 38" || got.NextAttempt.IsZero() {
		t.Fatalf("after transient failure: %+v", got)
	}
	got, _ = s.Messages.BeginPart(ctx, m.ID, 1, "89702", "modem-b")
	if got.Attempts != 2 || got.ICCID != "89702" {
		t.Fatalf("retry on another SIM: %+v", got)
	}
	got, _ = s.Messages.PartNotSent(ctx, m.ID, 1, ErrorInfo{Code: "CMS 1", Message: "unassigned number (CMS 1)"}, time.Time{})
	if got.State != Failed || got.FinalAt.IsZero() {
		t.Fatalf("after permanent failure: %+v", got)
	}
}

func TestUnknownOutcomeIsNeverRequeuedByDefault(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	m := accept(t, s, NewMessage{})
	s.Messages.BeginPart(ctx, m.ID, 1, "89701", "modem-a")
	got, _ := s.Messages.PartUnknown(ctx, m.ID, 1, ErrorInfo{Code: "timeout", Message: "no answer to AT+CMGS"}, false)
	if got.State != Unknown || got.PartList[0].State != "unknown" {
		t.Fatalf("%+v", got)
	}
	q := queue(t, s)
	if len(q) != 0 {
		t.Fatalf("unknown message is in the send queue: %v", q)
	}
}

// The queue comes back in creation order, ties by id, across both states
// it holds and whatever order the rows sit in.
func TestQueueIsInCreationOrder(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := base
	s, err := Open(t.TempDir(), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	var want []string
	for _, at := range []int{30, 10, 20, 10, 30, 0} {
		now = base.Add(time.Duration(at) * time.Second)
		want = append(want, accept(t, s, NewMessage{}).ID)
	}
	// Begun and caught mid-send: "sending" is queued too, here one among
	// the oldest and one among the newest, tied with a queued one.
	for _, id := range []string{want[1], want[0]} {
		if _, err := s.Messages.BeginPart(ctx, id, 1, "89701", "m"); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want) // ids begin with their creation time
	q := queue(t, s)
	var got []string
	for i, m := range q {
		got = append(got, m.ID)
		if i > 0 && m.CreatedAt.Before(q[i-1].CreatedAt) {
			t.Errorf("%s created %v comes after one created %v", m.ID, m.CreatedAt, q[i-1].CreatedAt)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("queue %v, want %v", got, want)
	}
}

func TestRecoverInFlightAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, Options{})
	ctx := context.Background()
	caught := accept(t, s, NewMessage{})
	between := accept(t, s, NewMessage{Parts: 2})
	waiting := accept(t, s, NewMessage{})
	s.Messages.BeginPart(ctx, caught.ID, 1, "89701", "m")
	s.Messages.BeginPart(ctx, between.ID, 1, "89701", "m")
	s.Messages.PartSent(ctx, between.ID, 1, 5, time.Time{})
	s.Close() // what a kill -9 leaves is the same rows

	s = openTest(t, dir)
	n, err := s.Messages.RecoverInFlight(ctx, false)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d, %v; want 1", n, err)
	}
	for id, want := range map[string]MessageState{caught.ID: Unknown, between.ID: Queued, waiting.ID: Queued} {
		got, _ := s.Messages.GetMessage(ctx, id)
		if got.State != want {
			t.Errorf("%s: %s, want %s", id, got.State, want)
		}
	}
	b, _ := s.Messages.GetMessage(ctx, between.ID)
	if b.ICCID != "89701" {
		t.Errorf("half-sent message lost its SIM binding: %q", b.ICCID)
	}
}

func TestCancelOnlyWhileQueued(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	a := accept(t, s, NewMessage{})
	if got, err := s.Messages.Cancel(ctx, a.ID); err != nil || got.State != Cancelled {
		t.Fatalf("cancel queued: %v %v", got, err)
	}
	b := accept(t, s, NewMessage{})
	s.Messages.BeginPart(ctx, b.ID, 1, "89701", "m")
	if _, err := s.Messages.Cancel(ctx, b.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("cancel while sending: %v, want ErrConflict", err)
	}
}

func TestExpiredMessageIsNotStarted(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	s, err := Open(t.TempDir(), Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := accept(t, s, NewMessage{TTL: time.Minute})
	now = now.Add(time.Minute)
	if _, err := s.Messages.BeginPart(context.Background(), m.ID, 1, "89701", "m"); !errors.Is(err, ErrExpired) {
		t.Fatalf("BeginPart after expiry: %v, want ErrExpired", err)
	}
}

func TestConcurrentWritesShareCommits(t *testing.T) {
	s := openTest(t, t.TempDir())
	var wg sync.WaitGroup
	const n = 200
	ids := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, _, err := s.Messages.Accept(context.Background(), NewMessage{To: "+79161234567", Text: "x", Encoding: "gsm7", Parts: 1, TTL: time.Hour})
			if err != nil {
				t.Error(err)
				return
			}
			ids <- m.ID
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct ids, want %d", len(seen), n)
	}
	st := s.Stats()
	if st.Writes != n || st.Commits >= n {
		t.Logf("commits %d for %d writes", st.Commits, st.Writes)
	}
	if st.Writes != n {
		t.Fatalf("writes %d, want %d", st.Writes, n)
	}
}

func TestFailingWriteDoesNotTakeItsBatchDown(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Write(ctx, func(t *Tx) error {
				if _, err := t.exec("INSERT INTO meta (key, value) VALUES (?, 'v')", fmt.Sprint("k", i)); err != nil {
					return err
				}
				if i%2 == 1 {
					return boom
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		var n int
		s.rdb.QueryRow("SELECT COUNT(*) FROM meta WHERE key=?", fmt.Sprint("k", i)).Scan(&n)
		if i%2 == 1 && (!errors.Is(err, boom) || n != 0) {
			t.Errorf("op %d: err %v, rows %d; want boom and rolled back", i, err, n)
		}
		if i%2 == 0 && (err != nil || n != 1) {
			t.Errorf("op %d: err %v, rows %d; want committed", i, err, n)
		}
	}
}

func TestListMessagesPages(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	var want []string
	for i := 0; i < 5; i++ {
		want = append(want, accept(t, s, NewMessage{}).ID)
	}
	var got []string
	after := ""
	for page := 0; page < 5; page++ {
		list, next, err := s.Messages.ListMessages(ctx, MessageFilter{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range list {
			got = append(got, m.ID)
		}
		if next == "" {
			break
		}
		after = next
	}
	if len(got) != 5 {
		t.Fatalf("paged %d messages, want 5", len(got))
	}
	seen := map[string]bool{}
	for _, id := range got {
		seen[id] = true
	}
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("message %s missing from pages", id)
		}
	}
}

// A cursor that is no message id would sort before or after every id and
// answer a wrong page without a word: it is refused.
func TestListMessagesRefusesACursorItNeverGave(t *testing.T) {
	s := openTest(t, t.TempDir())
	for _, tc := range []struct {
		cursor string
		bad    bool
	}{{"zzz", true}, {"msg_", true}, {"MSG_01", true}, {"msg_0 1", true}, {"msg_0v", false}, {"msg_zz27", false}} {
		_, _, err := s.Messages.ListMessages(context.Background(), MessageFilter{After: tc.cursor})
		if errors.Is(err, ErrBadCursor) != tc.bad {
			t.Errorf("cursor %q: %v, want refused %v", tc.cursor, err, tc.bad)
		}
	}
}

// A listing shows each message's parts as reading it alone does: the API
// schema says part_list is an array, so it is never null.
func TestListMessagesCarriesParts(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	ids := []string{accept(t, s, NewMessage{Parts: 3}).ID, accept(t, s, NewMessage{}).ID}
	list, _, err := s.Messages.ListMessages(ctx, MessageFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(ids) {
		t.Fatalf("listed %d messages, want %d", len(list), len(ids))
	}
	for _, m := range list {
		one, err := s.Messages.GetMessage(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.PartList) != m.Parts || !reflect.DeepEqual(m.PartList, one.PartList) {
			t.Errorf("%s: listed parts %+v, read alone %+v (parts %d)", m.ID, m.PartList, one.PartList, m.Parts)
		}
	}
	empty, _, err := s.Messages.ListMessages(ctx, MessageFilter{After: list[len(list)-1].ID, Limit: 10})
	if err != nil || len(empty) != 0 {
		t.Fatalf("past the last message: %v, %v", empty, err)
	}
}

func TestSIMKeepsItsHistoryAcrossModems(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	s.Devices.SaveModem(ctx, Modem{ID: "imei-1", Port: "/dev/ttyUSB2"})
	s.Devices.SaveModem(ctx, Modem{ID: "imei-2", Port: "/dev/ttyUSB5"})
	if _, prev, err := s.Devices.SaveSIM(ctx, SIM{ICCID: "8970101", MSISDN: "+79160000001", ModemID: "imei-1"}); err != nil || prev != "" {
		t.Fatalf("first sighting: prev %q err %v", prev, err)
	}
	saved, prev, err := s.Devices.SaveSIM(ctx, SIM{ICCID: "8970101", ModemID: "imei-2"})
	if err != nil || prev != "" || saved.MSISDN != "+79160000001" || saved.ModemID != "imei-2" {
		t.Fatalf("moved SIM: %+v prev %q err %v", saved, prev, err)
	}
	_, prev, _ = s.Devices.SaveSIM(ctx, SIM{ICCID: "8970202", ModemID: "imei-2"})
	if prev != "8970101" {
		t.Fatalf("swap in imei-2: previous %q, want 8970101", prev)
	}
}

func TestSIMTurnsSuspectAfterFailuresToDifferentRecipients(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	s.Devices.SaveSIM(ctx, SIM{ICCID: "8970101", ModemID: "m"})
	fail := func(to string) (SIM, bool) {
		sim, became, err := s.Devices.SendOutcome(ctx, "8970101", to, true, 3)
		if err != nil {
			t.Fatal(err)
		}
		return sim, became
	}
	fail("+79160000001")
	fail("+79160000001") // the same bad number again says nothing about the SIM
	if sim, became := fail("+79160000002"); became || sim.State != SIMActive || sim.FailStreak != 2 {
		t.Fatalf("after two recipients: %+v became=%v", sim, became)
	}
	// A success resets the streak.
	s.Devices.SendOutcome(ctx, "8970101", "+79160000009", false, 3)
	fail("+79160000003")
	fail("+79160000004")
	sim, became := fail("+79160000005")
	if !became || sim.State != SIMSuspect {
		t.Fatalf("after three different recipients: %+v became=%v", sim, became)
	}
	if _, became := fail("+79160000006"); became {
		t.Fatal("a suspect SIM became suspect again")
	}
	sim, err := s.Devices.ResumeSIM(ctx, "8970101", "resumed through the API")
	if err != nil || sim.State != SIMActive || sim.FailStreak != 0 {
		t.Fatalf("resume: %+v %v", sim, err)
	}
	evs := []string{}
	rows, _ := s.rdb.Query("SELECT type FROM events WHERE kind='sim' ORDER BY id")
	for rows.Next() {
		var typ string
		rows.Scan(&typ)
		evs = append(evs, typ)
	}
	rows.Close()
	if fmt.Sprint(evs) != "[sim.suspect sim.resumed]" {
		t.Fatalf("SIM events %v", evs)
	}
}

func TestIDsSortInCreationOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	prev := ""
	for i := 0; i < 2000; i++ {
		id := NewID("msg_", t0.Add(time.Duration(i)*time.Millisecond))
		if id <= prev {
			t.Fatalf("%s sorts before the earlier %s", id, prev)
		}
		prev = id
	}
}

func TestFollowerCursorsAreKeptAndNeverGoBack(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if c, err := s.Deliveries.FollowerCursor(ctx, "fleet"); c != 0 || err != nil {
		t.Fatalf("new follower: %d, %v", c, err)
	}
	s.Deliveries.SaveFollowerCursor(ctx, "fleet", 42)
	s.Deliveries.SaveFollowerCursor(ctx, "fleet", 40) // a stale save
	s.Close()
	s = openTest(t, dir)
	if c, err := s.Deliveries.FollowerCursor(ctx, "fleet"); c != 42 || err != nil {
		t.Fatalf("after reopen: %d, %v", c, err)
	}
}

func TestDropQueuedLeavesWhatBeganSending(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	queued := accept(t, s, NewMessage{})
	begun := accept(t, s, NewMessage{})
	if _, err := s.Messages.BeginPart(ctx, begun.ID, 1, "8970100000000000001", "m1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Messages.DropQueued(ctx, queued.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Messages.GetMessage(ctx, queued.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("dropped message still there: %v", err)
	}
	if err := s.Messages.DropQueued(ctx, begun.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("dropping a message that began sending: %v", err)
	}
}

// The next part's start carries the last sent part's record into its
// commit; that record stands even when the start is refused, and a crash
// before it leaves the sent part "sending", so recovery calls it unknown.
func TestBeginPartAfterRecordsTheSentPartOnItsOwn(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	ctx := context.Background()
	a, b := accept(t, s, NewMessage{}), accept(t, s, NewMessage{})
	if _, err := s.Messages.BeginPart(ctx, a.ID, 1, "89701", "modem-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Messages.Cancel(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	var heard *Message
	sent := &SentPart{ID: a.ID, Seq: 1, MR: 5, Then: func(m *Message, err error) {
		if err != nil {
			t.Errorf("record part sent: %v", err)
		}
		heard = m
	}}
	if _, err := s.Messages.BeginPartAfter(ctx, sent, b.ID, 1, "89701", "modem-a"); !errors.Is(err, ErrConflict) {
		t.Fatalf("begin a cancelled message: %v, want ErrConflict", err)
	}
	if heard == nil || heard.State != Sent {
		t.Fatalf("carried record heard %+v, want sent before the refused start returned", heard)
	}
	if got, _ := s.Messages.GetMessage(ctx, a.ID); got.State != Sent || *got.PartList[0].MR != 5 {
		t.Fatalf("carried message: %+v", got)
	}

	// A part that went out but whose record was still held when the
	// daemon stopped is unknown after the restart, never sent again.
	c := accept(t, s, NewMessage{})
	if _, err := s.Messages.BeginPart(ctx, c.ID, 1, "89701", "modem-a"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, dir)
	if n, err := s.Messages.RecoverInFlight(ctx, false); err != nil || n != 1 {
		t.Fatalf("recover: %d unknown, %v; want 1", n, err)
	}
	if got, _ := s.Messages.GetMessage(ctx, c.ID); got.State != Unknown {
		t.Fatalf("held part's message after restart: %s, want unknown", got.State)
	}
}

// Readers opened for a burst of reads stay open for the next one instead
// of being closed and opened again, their statements prepared anew.
func TestReadersOpenedForABurstStayOpen(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	var conns []*sql.Conn
	for range readers {
		c, err := s.rdb.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
	if st := s.rdb.Stats(); st.MaxIdleClosed != 0 || st.Idle != readers {
		t.Fatalf("after a burst of %d readers: %d idle, %d closed for want of idle room", readers, st.Idle, st.MaxIdleClosed)
	}
}
