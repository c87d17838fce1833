package sending

import (
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
