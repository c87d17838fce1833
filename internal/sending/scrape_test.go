package sending

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/scrape"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// scrapeSIMs are stored SIMs, each with two sends in the last day.
type scrapeSIMs struct {
	fakeSIMs // the rest, never reached
	sims     []store.SIM
	since    time.Time
}

func (f *scrapeSIMs) SIMs(context.Context) ([]store.SIM, error) { return f.sims, nil }
func (f *scrapeSIMs) SentSince(_ context.Context, _ string, t time.Time) ([]time.Time, error) {
	f.since = t
	return []time.Time{t.Add(time.Hour), t.Add(2 * time.Hour)}, nil
}

type scrapeNets struct{}

func (scrapeNets) NetworkName(imsi, plmn string) string { return "MTS" }
func (scrapeNets) SendLimits(iccid, imsi string) api.SendLimits {
	return api.SendLimits{PerMinute: 0, PerHour: -1, PerDay: 200} // only the day is limited
}

// Every SIM has both states, 1 for its own; times never set and windows
// without a limit are absent, not 0.
func TestScrapeSIMs(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	sims := &scrapeSIMs{sims: []store.SIM{{ICCID: "8970101", IMSI: "250011", PLMN: "25001", ModemID: "m1", State: store.SIMSuspect,
		FailStreak: 3, ReceiveStalled: true, LastSentAt: now.Add(-time.Minute), FirstSeen: now.Add(-time.Hour)}}}
	c := scrape.New(slog.New(slog.DiscardHandler), ScrapeSIMs(sims, scrapeNets{}, func() time.Time { return now }))
	const l = `iccid="8970101",modem="m1",operator="MTS"`
	want := `
# HELP gsmbridge_sim_state 1 for the state the SIM is in (active, suspect), 0 for the others.
# TYPE gsmbridge_sim_state gauge
gsmbridge_sim_state{` + l + `,state="active"} 0
gsmbridge_sim_state{` + l + `,state="suspect"} 1
# HELP gsmbridge_sim_receive_stalled 1 while the SIM sends but has received nothing for longer than receive.stalled_after.
# TYPE gsmbridge_sim_receive_stalled gauge
gsmbridge_sim_receive_stalled{` + l + `} 1
# HELP gsmbridge_sim_consecutive_send_failures Consecutive failed sends to different recipients; at send.suspect_after the SIM turns suspect.
# TYPE gsmbridge_sim_consecutive_send_failures gauge
gsmbridge_sim_consecutive_send_failures{` + l + `} 3
# HELP gsmbridge_sim_last_sent_timestamp_seconds When the SIM last sent an SMS part.
# TYPE gsmbridge_sim_last_sent_timestamp_seconds gauge
gsmbridge_sim_last_sent_timestamp_seconds{` + l + `} 1.79647194e+09
# HELP gsmbridge_sim_sent_parts_last_day SMS parts the SIM sent in the last 24 hours.
# TYPE gsmbridge_sim_sent_parts_last_day gauge
gsmbridge_sim_sent_parts_last_day{` + l + `} 2
# HELP gsmbridge_sim_send_limit_parts The SIM's send limit per window (minute, hour, day); absent when unlimited.
# TYPE gsmbridge_sim_send_limit_parts gauge
gsmbridge_sim_send_limit_parts{` + l + `,window="day"} 200
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "gsmbridge_sim_state", "gsmbridge_sim_receive_stalled",
		"gsmbridge_sim_consecutive_send_failures", "gsmbridge_sim_last_sent_timestamp_seconds", "gsmbridge_sim_last_received_timestamp_seconds",
		"gsmbridge_sim_sent_parts_last_day", "gsmbridge_sim_send_limit_parts"); err != nil {
		t.Error(err)
	}
	if want := now.Add(-24 * time.Hour); !sims.since.Equal(want) {
		t.Errorf("sends counted since %v, want %v", sims.since, want)
	}
}

type stateCounts map[string]int64

func (s stateCounts) MessagesByState(context.Context) (map[string]int64, error) {
	if s == nil {
		return nil, errors.New("database is closed")
	}
	return s, nil
}

type depth int

func (d depth) QueueDepth() int { return int(d) }

// Every state is there, at 0 when no message is in it.
func TestScrapeMessagesAndQueue(t *testing.T) {
	c := scrape.New(slog.New(slog.DiscardHandler), ScrapeMessages(stateCounts{"sent": 5, "queued": 2}), ScrapeQueue(depth(2)))
	want := `
# HELP gsmbridge_messages Stored messages by state.
# TYPE gsmbridge_messages gauge
gsmbridge_messages{state="cancelled"} 0
gsmbridge_messages{state="delivered"} 0
gsmbridge_messages{state="expired"} 0
gsmbridge_messages{state="failed"} 0
gsmbridge_messages{state="queued"} 2
gsmbridge_messages{state="sending"} 0
gsmbridge_messages{state="sent"} 5
gsmbridge_messages{state="undelivered"} 0
gsmbridge_messages{state="unknown"} 0
# HELP gsmbridge_queue_messages Messages waiting for a SIM to send them.
# TYPE gsmbridge_queue_messages gauge
gsmbridge_queue_messages 2
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "gsmbridge_messages", "gsmbridge_queue_messages"); err != nil {
		t.Error(err)
	}
	failing := scrape.New(slog.New(slog.DiscardHandler), ScrapeMessages(stateCounts(nil)))
	if n := testutil.CollectAndCount(failing, "gsmbridge_messages"); n != 0 {
		t.Errorf("%d message series from a store that cannot be read, want none", n)
	}
}
