package receiving

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const (
	// A Tele2 DELIVER ("test" from 4-digit sender) and a status report,
	// as modems list them.
	pduDeliver = "07919761989901F00409D0D432BB2C030000211062320150610CC8329BFD065DDF72363904"
	pduReport  = "07914356060013F10659098136395339F6219011707193802190117071938030"
)

type stores interface {
	Inbox
	Devices
}

// fakeStore records what receiving wrote; broken makes writes fail.
type fakeStore struct {
	stores   // the methods a test does not use panic
	received []store.Received
	reports  []store.StatusReport
	events   []string
	broken   error
}

func (f *fakeStore) StoreReceived(_ context.Context, r store.Received) (*store.InboxMessage, error) {
	if f.broken != nil {
		return nil, f.broken
	}
	f.received = append(f.received, r)
	return &store.InboxMessage{}, nil
}

func (f *fakeStore) RecordStatusReport(_ context.Context, r store.StatusReport) (*store.Message, error) {
	if f.broken != nil {
		return nil, f.broken
	}
	f.reports = append(f.reports, r)
	return &store.Message{}, nil
}

func (f *fakeStore) ModemEvent(_ context.Context, id, typ string, status any) error {
	raw, err := json.Marshal(status)
	f.events = append(f.events, id+" "+typ+" "+string(raw))
	return err
}

func TestTakeStoresMessagesAndReportsAndLeavesTheRest(t *testing.T) {
	submit, err := sms.EncodeSubmit("+79161234567", "hi", sms.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		pdu       string
		want      Taken
		received  int
		reports   int
		decodable bool
	}{
		{"a received SMS", pduDeliver, Taken{Message: true}, 1, 0, true},
		{"a status report", pduReport, Taken{Report: true}, 0, 1, true},
		{"a SUBMIT someone left in storage", submit[0].PDU, Taken{}, 0, 0, true},
		{"garbage", "07919761989901F004", Taken{}, 0, 0, false},
	}
	for _, tt := range tests {
		st := &fakeStore{}
		r := New(st, st, Options{})
		got, err := r.Take(t.Context(), Source{Modem: "m1", ICCID: "8970"}, tt.pdu)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if (got.Undecodable == nil) != tt.decodable || got.Message != tt.want.Message || got.Report != tt.want.Report ||
			len(st.received) != tt.received || len(st.reports) != tt.reports {
			t.Errorf("%s: %+v, stored %d messages and %d reports", tt.name, got, len(st.received), len(st.reports))
		}
		if tt.received > 0 && (st.received[0].ICCID != "8970" || st.received[0].ModemID != "m1" || st.received[0].Text == "") {
			t.Errorf("%s: stored %+v, want it from SIM 8970 in m1", tt.name, st.received[0])
		}
		if tt.reports > 0 && st.reports[0].ICCID != "8970" {
			t.Errorf("%s: report %+v, want it on SIM 8970", tt.name, st.reports[0])
		}
	}

	st := &fakeStore{broken: errors.New("disk I/O error")}
	if got, err := New(st, st, Options{}).Take(t.Context(), Source{Modem: "m1"}, pduDeliver); err == nil || got.Message {
		t.Fatalf("%+v, %v with a broken store, want its error", got, err)
	}
}

// A PDU left undecodable is reported once however many sweeps find it: one
// event without the PDU, one count.
func TestLeftPDUIsReportedOnce(t *testing.T) {
	st := &fakeStore{}
	reg := prometheus.NewRegistry()
	r := New(st, st, Options{Registerer: reg})
	r.Watch("m1")
	if n := testutil.ToFloat64(r.metrics.undecodable.WithLabelValues("m1")); n != 0 {
		t.Fatalf("counter %v before anything was left, want 0", n)
	}
	for range 3 {
		r.Left(t.Context(), Source{Modem: "m1", ICCID: "8970"}, 4, pduDeliver, errors.New("bad hex"))
	}
	if len(st.events) != 1 || !strings.HasPrefix(st.events[0], `m1 modem.sms_undecodable {"modem":"m1","iccid":"8970","index":4,"pdu_chars":74,"reason":"bad hex"}`) {
		t.Fatalf("events %q", st.events)
	}
	if n := testutil.ToFloat64(r.metrics.undecodable.WithLabelValues("m1")); n != 1 {
		t.Fatalf("counter %v, want 1", n)
	}
}

// Direct deliveries the store refused are stored later, in arrival order,
// as from the SIM they came through.
func TestKeptDeliveriesAreStoredByRetry(t *testing.T) {
	st := &fakeStore{broken: errors.New("disk I/O error")}
	r := New(st, st, Options{})
	r.Keep(Source{Modem: "m1", ICCID: "8970-old"}, pduDeliver, st.broken)
	r.Keep(Source{Modem: "m1", ICCID: "8970-old"}, pduReport, st.broken)
	if n := r.RetryUnstored(t.Context(), Source{Modem: "m1", ICCID: "8970-new"}); n != 0 {
		t.Fatalf("%d stored while the store is broken", n)
	}
	st.broken = nil
	if n := r.RetryUnstored(t.Context(), Source{Modem: "m2"}); n != 0 || len(st.received) != 0 {
		t.Fatal("another modem's retry took m1's deliveries")
	}
	if n := r.RetryUnstored(t.Context(), Source{Modem: "m1", ICCID: "8970-new"}); n != 1 ||
		len(st.received) != 1 || st.received[0].ICCID != "8970-old" || len(st.reports) != 1 {
		t.Fatalf("stored %d: %+v, reports %+v", n, st.received, st.reports)
	}
	if n := r.RetryUnstored(t.Context(), Source{Modem: "m1"}); n != 0 {
		t.Fatalf("%d stored twice", n)
	}
}

func TestUnstoredDirectDeliveriesAreRetriedInOrder(t *testing.T) {
	var u unstoredPDUs
	for _, p := range []string{"A", "B", "C"} {
		if !u.add(unstoredPDU{pdu: p, iccid: "8970-" + p}) {
			t.Fatalf("add %s refused", p)
		}
	}
	var stored []string
	broken := true
	store := func(p unstoredPDU) error {
		if broken && p.pdu == "B" {
			return fmt.Errorf("disk I/O error")
		}
		stored = append(stored, p.pdu+"@"+p.iccid)
		return nil
	}
	if err := u.retry(store); err == nil || u.len() != 2 || fmt.Sprint(stored) != "[A@8970-A]" {
		t.Fatalf("first retry: %v, %d left, stored %v", err, u.len(), stored)
	}
	broken = false
	if err := u.retry(store); err != nil || u.len() != 0 || fmt.Sprint(stored) != "[A@8970-A B@8970-B C@8970-C]" {
		t.Fatalf("second retry: %v, %d left, stored %v", err, u.len(), stored)
	}
	for i := 0; i < maxUnstored; i++ {
		u.add(unstoredPDU{pdu: "x"})
	}
	if u.add(unstoredPDU{pdu: "one too many"}) {
		t.Fatal("the memory for unstored PDUs is unbounded")
	}
}

// Run's checks end with its context.
func TestRunStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	fs := &fakeStore{}
	r := New(fs, fs, Options{Config: config.Receive{StalledAfter: time.Hour, IncompleteAfter: time.Hour}})
	done := make(chan struct{})
	go func() {
		r.Run(ctx)
		close(done)
	}()
	cancel()
	<-done
}
