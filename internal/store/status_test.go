package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// steppedClock is a store clock a test moves by hand.
type steppedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *steppedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *steppedClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestRecentMessagesAreTheNewestFirst(t *testing.T) {
	clock := &steppedClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	s, err := Open(t.TempDir(), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []string
	for i := range 5 {
		clock.Add(time.Second)
		ids = append(ids, accept(t, s, NewMessage{To: fmt.Sprintf("+7916000000%d", i)}).ID)
	}
	for _, c := range []struct {
		n    int
		want []string
	}{
		{3, []string{ids[4], ids[3], ids[2]}},
		{10, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{0, nil},
	} {
		got, err := s.Messages.RecentMessages(context.Background(), c.n)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, m := range got {
			gotIDs = append(gotIDs, m.ID)
		}
		if fmt.Sprint(gotIDs) != fmt.Sprint(c.want) {
			t.Errorf("RecentMessages(%d) = %v, want %v", c.n, gotIDs, c.want)
		}
	}
}

func TestSentPerSIMCountsPartsInTheWindow(t *testing.T) {
	clock := &steppedClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	s, err := Open(t.TempDir(), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	send := func(iccid string, parts int) {
		t.Helper()
		m := accept(t, s, NewMessage{Parts: parts})
		for seq := 1; seq <= parts; seq++ {
			if _, err := s.Messages.BeginPart(ctx, m.ID, seq, iccid, "modem-"+iccid); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Messages.PartSent(ctx, m.ID, seq, seq, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	send("89701", 2) // 09:00
	clock.Add(2 * time.Hour)
	send("89701", 1) // 11:00
	send("89702", 3)
	accept(t, s, NewMessage{}) // queued: no part sent
	for _, c := range []struct {
		since time.Time
		want  string
	}{
		{clock.Now().Add(-24 * time.Hour), "map[89701:3 89702:3]"},
		{clock.Now().Add(-time.Hour), "map[89701:1 89702:3]"},
		{clock.Now().Add(time.Minute), "map[]"},
	} {
		got, err := s.Devices.SentPerSIM(ctx, c.since)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != c.want {
			t.Errorf("SentPerSIM(%s) = %v, want %s", c.since.Format(time.TimeOnly), got, c.want)
		}
	}
}

func TestBalanceSummaryKeepsTheLastReadableAmount(t *testing.T) {
	clock := &steppedClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	s, err := Open(t.TempDir(), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	readings := []struct {
		iccid, amount string
		parsed, low   bool
	}{
		{"89701", "151.25", true, false},
		{"89701", "40.00", true, true},
		{"89701", "", false, false}, // an unreadable reply must not hide 40.00
		{"89702", "", false, false}, // never read: no summary
		{"89703", "-12.30", true, false},
	}
	for _, r := range readings {
		clock.Add(time.Minute)
		if _, err := s.Balances.RecordBalance(ctx, Balance{ICCID: r.iccid, Amount: r.amount, Currency: "RUB", Parsed: r.parsed,
			Text: "Баланс", Raw: "x", Source: "ussd"}, "50.00", r.low, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Balances.BalanceSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	want := map[string]BalanceSummary{
		"89701": {Amount: "40.00", Currency: "RUB", CheckedAt: start.Add(2 * time.Minute), Low: true},
		"89703": {Amount: "-12.30", Currency: "RUB", CheckedAt: start.Add(5 * time.Minute)},
	}
	if len(got) != len(want) {
		t.Fatalf("summaries %v, want %v", got, want)
	}
	for iccid, w := range want {
		g := got[iccid]
		if g.Amount != w.Amount || g.Currency != w.Currency || !g.CheckedAt.Equal(w.CheckedAt) || g.Low != w.Low {
			t.Errorf("%s: %+v, want %+v", iccid, g, w)
		}
	}
}
