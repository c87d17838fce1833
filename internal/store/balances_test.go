package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
)

const testICCID = "8970101234567890123"

func TestBalanceLowIsAnnouncedOncePerCrossing(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	if _, _, err := s.Devices.SaveSIM(ctx, SIM{ICCID: testICCID, IMSI: "250011234567890", PLMN: "25001"}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		amount     string
		parsed     bool
		low        bool
		wantCross  bool
		wantLowNow bool
	}{
		{"151.25", true, false, false, false},
		{"40.00", true, true, true, true},
		{"30.00", true, true, false, true}, // still low: no second event
		{"", false, false, false, true},    // an unreadable reply changes nothing
		{"80.00", true, false, false, false},
		{"10.00", true, true, true, true}, // a new crossing
	}
	for i, st := range steps {
		crossed, err := s.Balances.RecordBalance(ctx, Balance{ICCID: testICCID, Amount: st.amount, Parsed: st.parsed, Text: "Баланс " + st.amount, Raw: "x", Source: "ussd"}, "50.00", st.low, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		state, err := s.Balances.GetBalanceState(ctx, testICCID)
		if err != nil {
			t.Fatal(err)
		}
		if crossed != st.wantCross || state.Low != st.wantLowNow {
			t.Fatalf("step %d (%s): crossed %v low %v, want %v %v", i, st.amount, crossed, state.Low, st.wantCross, st.wantLowNow)
		}
	}
	if err := s.Balances.NoteBalanceFailure(ctx, testICCID, "no answer", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := eventsOf(t, s, testICCID); len(got) != 2 || got[0] != "balance.low/1" || got[1] != "balance.low/2" {
		t.Fatalf("events %v, want two balance.low", got)
	}
	var payload string
	if err := s.rdb.QueryRow("SELECT payload FROM events WHERE object_id=? ORDER BY id LIMIT 1", testICCID).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	var ev api.BalanceLow
	if err := json.Unmarshal([]byte(payload), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.SIM.PLMN != "25001" || ev.Balance.Amount != "40.00" || ev.Threshold != "50.00" {
		t.Fatalf("payload %s", payload)
	}
	state, _ := s.Balances.GetBalanceState(ctx, testICCID)
	if state.Checks != 6 || state.ParseFailures != 1 || state.CheckFailures != 1 || state.LastError != "no answer" {
		t.Fatalf("counters %+v", state)
	}
	last, parsed, err := s.Balances.LatestBalances(ctx, testICCID)
	if err != nil || last.Amount != "10.00" || parsed.Amount != "10.00" {
		t.Fatalf("latest %+v %+v %v", last, parsed, err)
	}
}

func TestUSSDClaimHoldsTheModem(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	first, err := s.USSD.ClaimUSSD(ctx, USSDSession{ID: "u1", ModemID: "m1", Purpose: "api", ExpiresAt: exp})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.USSD.ClaimUSSD(ctx, USSDSession{ID: "u2", ModemID: "m1", Purpose: "balance", ExpiresAt: exp})
	var busy *USSDBusyError
	if !errors.As(err, &busy) || busy.Holder.ID != "u1" || !busy.Holder.StartedAt.Equal(first.StartedAt) {
		t.Fatalf("second claim: %v", err)
	}
	if _, err := s.USSD.ClaimUSSD(ctx, USSDSession{ID: "u3", ModemID: "m2", Purpose: "api", ExpiresAt: exp}); err != nil {
		t.Fatalf("another modem: %v", err)
	}
	if _, err := s.USSD.MoveUSSD(ctx, "u1", USSDOpen, USSDRunning, ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("move from the wrong state: %v", err)
	}
	if _, err := s.USSD.MoveUSSD(ctx, "u1", USSDRunning, USSDOpen, ""); err != nil {
		t.Fatal(err)
	}
	closed, err := s.USSD.MoveUSSD(ctx, "u1", USSDOpen, USSDClosed, "timeout")
	if err != nil || closed.CloseReason != "timeout" || closed.ClosedAt.IsZero() {
		t.Fatalf("close: %+v %v", closed, err)
	}
	if _, err := s.USSD.ClaimUSSD(ctx, USSDSession{ID: "u4", ModemID: "m1", Purpose: "api", ExpiresAt: exp}); err != nil {
		t.Fatalf("claim after close: %v", err)
	}
	n, err := s.USSD.CloseStaleUSSD(ctx, time.Now().Add(time.Second))
	if err != nil || n != 2 {
		t.Fatalf("stale: %d %v", n, err)
	}
	if live, _ := s.USSD.LiveUSSDSessions(ctx); len(live) != 0 {
		t.Fatalf("live after restart cleanup: %v", live)
	}
	if _, err := s.USSD.GetUSSDSession(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
}

func TestBalanceScheduleSurvivesWatchAgain(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Millisecond)
	if err := s.Balances.WatchBalance(ctx, testICCID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The daemon restarts and sees the SIM again: its slot must not move.
	if err := s.Balances.WatchBalance(ctx, testICCID, t0); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.Balances.BalanceChecksDue(ctx, t0.Add(time.Minute)); len(due) != 0 {
		t.Fatalf("due %v before its slot", due)
	}
	// The scheduler sleeps until the slot.
	if at, ok, err := s.Balances.NextBalanceCheck(ctx, t0); !ok || err != nil || !at.Equal(t0.Add(time.Hour)) {
		t.Fatalf("next check %v ok=%v err=%v, want %v", at, ok, err, t0.Add(time.Hour))
	}
	if err := s.Balances.ScheduleBalanceCheck(ctx, testICCID, t0); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.Balances.BalanceChecksDue(ctx, t0); len(due) != 1 || due[0] != testICCID {
		t.Fatalf("due %v after scheduling now", due)
	}
	// A check due now is not one to sleep until.
	if at, ok, err := s.Balances.NextBalanceCheck(ctx, t0); ok || err != nil {
		t.Fatalf("next check after a due one: %v ok=%v err=%v", at, ok, err)
	}
}

// A scheduled check writes its outcome and the next check together: a
// reader that sees the new reading sees the new schedule too.
func TestBalanceOutcomeCarriesTheNextCheck(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Millisecond)
	next := func() time.Time {
		t.Helper()
		st, err := s.Balances.GetBalanceState(ctx, testICCID)
		if err != nil {
			t.Fatal(err)
		}
		return st.NextCheck
	}
	if err := s.Balances.WatchBalance(ctx, testICCID, t0); err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct {
		write func(at time.Time) error
		at    time.Time
		want  time.Time
	}{
		{func(at time.Time) error {
			_, err := s.Balances.RecordBalance(ctx, Balance{ICCID: testICCID, Amount: "10.00", Parsed: true, Source: "ussd"}, "", false, at)
			return err
		}, t0.Add(time.Hour), t0.Add(time.Hour)},
		{func(at time.Time) error {
			_, err := s.Balances.RecordBalance(ctx, Balance{ICCID: testICCID, Text: "??", Source: "ussd"}, "", false, at)
			return err
		}, t0.Add(2 * time.Hour), t0.Add(2 * time.Hour)},
		{func(at time.Time) error { return s.Balances.NoteBalanceFailure(ctx, testICCID, "no answer", at) }, t0.Add(3 * time.Hour), t0.Add(3 * time.Hour)},
		// A refresh asked through the API leaves the schedule alone.
		{func(at time.Time) error {
			_, err := s.Balances.RecordBalance(ctx, Balance{ICCID: testICCID, Amount: "9.00", Parsed: true, Source: "ussd"}, "", false, at)
			return err
		}, time.Time{}, t0.Add(3 * time.Hour)},
		{func(at time.Time) error { return s.Balances.NoteBalanceFailure(ctx, testICCID, "no answer", at) }, time.Time{}, t0.Add(3 * time.Hour)},
	} {
		if err := step.write(step.at); err != nil {
			t.Fatal(err)
		}
		if got := next(); !got.Equal(step.want) {
			t.Errorf("step %d: next check %v, want %v", i, got, step.want)
		}
	}
}

func TestServiceSMSSinceFindsTheOperatorsMessage(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	for _, r := range []Received{
		{ICCID: testICCID, ModemID: "m1", Sender: "+79161234567", Text: "Да", Encoding: "ucs2", Plain: true, SCTS: time.Now()},
		{ICCID: testICCID, ModemID: "m1", Sender: "MTSinfo", Text: "Баланс 12,00 р.", Encoding: "ucs2", Plain: true, SCTS: time.Now()},
	} {
		if _, err := s.Inbox.StoreReceived(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	m, err := s.Inbox.ServiceSMSSince(ctx, testICCID, []string{"mtsinfo", "111"}, before)
	if err != nil || m.Text != "Баланс 12,00 р." {
		t.Fatalf("got %+v %v", m, err)
	}
	if _, err := s.Inbox.StoreReceived(ctx, Received{ICCID: testICCID, ModemID: "m1", Sender: "+611", Text: "Balance 5 r.", Encoding: "gsm7", Plain: true, SCTS: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	m, err = s.Inbox.ServiceSMSSince(ctx, testICCID, []string{"611"}, before)
	if err != nil || m.Text != "Balance 5 r." {
		t.Fatalf("short code shown as +611: %+v %v", m, err)
	}
	m, err = s.Inbox.ServiceSMSSince(ctx, testICCID, []string{"MTSinfo"}, before)
	if err != nil || m.Text != "Баланс 12,00 р." {
		t.Fatalf("got %+v %v", m, err)
	}
	if _, err := s.Inbox.ServiceSMSSince(ctx, testICCID, []string{"mtsinfo"}, time.Now().Add(time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("later window: %v", err)
	}
}
