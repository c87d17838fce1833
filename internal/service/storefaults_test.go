package service

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/health"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/internal/testtool"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// The disk fills while part 1 of a two-part SMS is on the wire: the part's
// "sent" cannot be recorded and part 2 cannot start. The API and /readyz say
// so; once space is back the message is finished, each part sent once, and
// the log tells of the failure and the recovery.
func TestFullDiskMidSendIsSeenAndSurvived(t *testing.T) {
	h, id, text, dataDir := startSendOnFullDisk(t)
	customer := "+79161234567"
	free := testtool.FillDisk(t, dataDir)

	var e struct {
		Error struct{ Code, Message string }
	}
	if code := h.do("POST", "/v1/messages", map[string]any{"to": customer, "text": "another"}, &e); code != http.StatusInsufficientStorage || e.Error.Code != "insufficient_storage" {
		t.Fatalf("POST on a full disk: %d %+v, want 507 insufficient_storage", code, e)
	}
	var rd health.Readiness
	if code := h.do("GET", "/readyz", nil, &rd); code != http.StatusServiceUnavailable || storeCheck(rd).Status != health.Fail {
		t.Fatalf("/readyz on a full disk: %d %+v", code, rd)
	}
	if msg := storeCheck(rd).Message; !strings.Contains(msg, "full") {
		t.Fatalf("store check says %q; want it to name the full disk", msg)
	}
	waitSentRecordKept(t, h)

	free()
	var m api.Message
	eventually(t, "message sent after the disk has room", func() bool {
		h.do("GET", "/v1/messages/"+id, nil, &m)
		return m.State == store.Sent
	})
	for _, p := range m.PartList {
		if p.State != "sent" || p.MR == nil {
			t.Fatalf("part %+v, want sent with its reference", p)
		}
	}
	if n := len(h.modems[0].Record().Sent()); n != 2 {
		t.Fatalf("modem took %d PDUs, want 2 (each part once)", n)
	}
	eventually(t, "customer got the text", func() bool { return len(h.net.Phones().Inbox(customer)) == 1 })
	if got := h.net.Phones().Inbox(customer)[0].Text; got != text {
		t.Fatalf("customer got %q", got)
	}
	eventually(t, "store.failed and store.recovered logged", func() bool {
		types := h.eventTypes("store", "database")
		return len(types) == 2 && types[0] == "store.failed" && types[1] == "store.recovered"
	})
	if code := h.do("GET", "/readyz", nil, &rd); code != http.StatusOK {
		t.Fatalf("/readyz after recovery: %d %+v", code, rd)
	}
}

// startSendOnFullDisk starts a daemon on a 2 MB tmpfs and a two-part SMS
// whose part 1 is on the wire (the modem answers AT+CMGS after 400 ms);
// the caller fills the disk meanwhile.
func startSendOnFullDisk(t *testing.T) (h *harness, id, text, dataDir string) {
	t.Helper()
	h = startHarnessWith(t, func(c *config.Config) {
		dataDir = testtool.SmallFS(t, "2m", "the daemon on a full disk is")
		c.DataDir = dataDir
		c.Send.RetryBackoff = 50 * time.Millisecond
		// The scheduler counts every part of a part-sent message against
		// the per-minute limit; this test is not about limits.
		c.Operators = []config.Operator{{PLMN: []string{"25001"}, Limits: config.Limits{PerMinute: -1, PerHour: -1, PerDay: -1}}}
	}, modemsim.Generic)
	h.waitReady(1)
	customer := "+79161234567"
	h.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	h.modems[0].Faults().SetLatency("AT+CMGS", 400*time.Millisecond)
	text = strings.Repeat("Payment 42 received, thank you. ", 7) // 224 GSM 7-bit characters: 2 parts
	var acc struct{ ID string }
	if code := h.do("POST", "/v1/messages", map[string]any{"to": customer, "text": text}, &acc); code != http.StatusAccepted {
		t.Fatalf("POST: %d", code)
	}
	eventually(t, "part 1 on the wire", func() bool {
		var m api.Message
		h.do("GET", "/v1/messages/"+acc.ID, nil, &m)
		return m.State == store.Sending
	})
	return h, acc.ID, text, dataDir
}

// waitSentRecordKept waits until part 1's "sent" record was refused by the
// full disk and kept for later.
func waitSentRecordKept(t *testing.T, h *harness) {
	t.Helper()
	eventually(t, "part 1's sent record refused and kept", func() bool {
		return h.d.storeWatch.Pending() == 1
	})
	if err := h.d.store.Health().Err; !errors.Is(err, store.ErrFull) {
		t.Fatalf("store health %v, want failing with ErrFull", err)
	}
}

// Stopped before the disk has room, the daemon cannot record that part 1
// went out: the next start makes the message unknown, and nothing is sent
// again.
func TestStopOnAFullDiskLeavesThePartUnknownNeverResent(t *testing.T) {
	h, id, _, dataDir := startSendOnFullDisk(t)
	free := testtool.FillDisk(t, dataDir)
	waitSentRecordKept(t, h)
	h.stopDaemon()
	free()

	st, err := store.Open(dataDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Messages.RecoverInFlight(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	m, err := st.Messages.GetMessage(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if m.State != store.Unknown {
		t.Fatalf("after a stop on a full disk the message is %s, want unknown", m.State)
	}
	if n := len(h.modems[0].Record().Sent()); n != 1 {
		t.Fatalf("modem took %d PDUs, want 1", n)
	}
}

func storeCheck(rd health.Readiness) health.Check {
	for _, c := range rd.Checks {
		if c.Name == "store" {
			return c
		}
	}
	return health.Check{}
}

// A database deleted under the running daemon: nothing more is accepted
// into the unlinked file, and /readyz says why.
func TestDeletedDatabaseStopsAccepting(t *testing.T) {
	h := startHarness(t, modemsim.Generic)
	h.waitReady(1)
	if err := os.Remove(filepath.Join(h.dataDir, "gsmbridge.db")); err != nil {
		t.Fatal(err)
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if code := h.do("POST", "/v1/messages", map[string]any{"to": "+79161234567", "text": "x"}, &e); code != http.StatusServiceUnavailable || e.Error.Code != "store_unavailable" {
		t.Fatalf("POST after the database was deleted: %d %+v, want 503 store_unavailable", code, e)
	}
	if !strings.Contains(e.Error.Message, "no longer exists") {
		t.Fatalf("error %q does not say what happened", e.Error.Message)
	}
	var rd health.Readiness
	if code := h.do("GET", "/readyz", nil, &rd); code != http.StatusServiceUnavailable || !strings.Contains(storeCheck(rd).Message, "no longer exists") {
		t.Fatalf("/readyz: %d %+v", code, rd)
	}
}
