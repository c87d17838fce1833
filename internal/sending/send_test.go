package sending

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/internal/work"
)

// A message whose deadline passes while it waits for its modem expires
// when the owner takes it, as the store's check before the send would say.
// Before, its validity period came out negative, encoding failed, and the
// message ended failed ("encode"), its payment's confirmation failed for a
// "SIM failure".
func TestAMessagePastItsDeadlineAtTheModemExpires(t *testing.T) {
	s, msgs, _ := newTestSending(t)
	now := s.now()
	m := &store.Message{ID: "late", To: "+79161110001", Text: "x", Parts: 1, State: store.Queued,
		PartList: []store.Part{{Seq: 1, State: "pending"}}, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Second)}
	msgs.byID[m.ID] = m
	lane := &sendLane{Lane: work.Lane{Modem: "m", SIM: store.SIM{ICCID: "8970", PLMN: "25001"}, Log: slog.New(slog.DiscardHandler)}, s: s}
	sent, failure, err := (&sendJob{lane: lane, m: m}).send(t.Context(), nil)
	if len(sent) != 0 || failure != nil || err != nil {
		t.Fatalf("send: %v sent, failure %v, AT error %v", sent, failure, err)
	}
	if got, _ := msgs.GetMessage(t.Context(), "late"); got.State != store.Expired {
		t.Fatalf("message is %s (%+v), want expired", got.State, got.Error)
	}
}

// claimTimesOut stands for a fleet whose claim could not be marked sending
// before the job's context ended (a NATS node killed mid-request).
type claimTimesOut struct {
	Fleet
	cancel context.CancelFunc
}

func (f claimTimesOut) ClaimSending(context.Context, string) (send, wait bool) {
	f.cancel()
	return false, true
}

// A message whose fleet claim could not be marked stays queued in the
// store, so the scheduler must have it again, although the job's context
// ended with the claim. Before, the store read that requeues it failed on
// that context and the message waited for the next restart.
func TestAMessageWhoseClaimTimedOutIsQueuedAgain(t *testing.T) {
	s, msgs, sched := newTestSending(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s.JoinFleet(claimTimesOut{cancel: cancel})
	now := s.now()
	m := &store.Message{ID: "waits", To: "+79161110001", Text: "x", Parts: 1, State: store.Queued,
		PartList: []store.Part{{Seq: 1, State: "pending"}}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	msgs.byID[m.ID] = m
	lane := &sendLane{Lane: work.Lane{Modem: "m", SIM: store.SIM{ICCID: "8970", PLMN: "25001"}, Log: slog.New(slog.DiscardHandler)}, s: s}
	if sent, failure, err := (&sendJob{lane: lane, m: m}).send(ctx, nil); len(sent) != 0 || failure != nil || err != nil {
		t.Fatalf("send: %v sent, failure %v, AT error %v", sent, failure, err)
	}
	if n := sched.QueueDepth(); n != 1 {
		t.Fatalf("scheduler holds %d messages, want the one whose claim timed out", n)
	}
}

// fleetOwner is the fleet's answer on whose a queued copy is.
type fleetOwner struct {
	Fleet
	mine  bool
	asked []string
}

func (f *fleetOwner) MayEnd(_ context.Context, id string) bool {
	f.asked = append(f.asked, id)
	return f.mine
}

// In a fleet, a copy whose time ran out is expired only while the fleet
// says it is this host's: one another host holds by now (released while
// this host was paused, and sent there) is that host's to report.
func TestAnExpiredCopyIsReportedOnlyByTheHostThatHoldsIt(t *testing.T) {
	for _, mine := range []bool{true, false} {
		s, msgs, _ := newTestSending(t)
		f := &fleetOwner{mine: mine}
		s.JoinFleet(f)
		now := s.now()
		m := &store.Message{ID: "late", To: "+79161110001", Text: "x", Parts: 1, State: store.Queued,
			PartList: []store.Part{{Seq: 1, State: "pending"}}, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Second)}
		msgs.byID[m.ID] = m
		lane := &sendLane{Lane: work.Lane{Modem: "m", SIM: store.SIM{ICCID: "8970", PLMN: "25001"}, Log: slog.New(slog.DiscardHandler)}, s: s}
		if sent, failure, err := (&sendJob{lane: lane, m: m}).send(t.Context(), nil); len(sent) != 0 || failure != nil || err != nil {
			t.Fatalf("send: %v sent, failure %v, AT error %v", sent, failure, err)
		}
		want := store.Expired
		if !mine {
			want = store.Queued // the fleet dropped it; the fake leaves it be
		}
		if got, _ := msgs.GetMessage(t.Context(), "late"); got.State != want || len(f.asked) != 1 {
			t.Errorf("this host's: %v: message is %s, the fleet asked %v; want %s, asked once", mine, got.State, f.asked, want)
		}
	}
}
