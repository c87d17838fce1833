package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// A SIM known by its IMSI only works like any other; when its ICCID can be
// read, everything recorded under the IMSI key moves to the ICCID at once.
func TestSIMKnownByIMSIMovesToItsICCIDWithItsHistory(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	const imsi = "250011234567890"
	key := IMSIKey(imsi)
	s.Devices.SaveModem(ctx, Modem{ID: "imei-1", Port: "/dev/ttyUSB2"})
	sim, _, err := s.Devices.SaveSIM(ctx, SIM{ICCID: key, IMSI: imsi, PLMN: "25001", ModemID: "imei-1"})
	if err != nil || sim.ICCID != key || sim.IDSource != IDSourceIMSI {
		t.Fatalf("saved %+v err %v", sim, err)
	}
	_, m := create(t, s, newConf("pay-1"))
	sendThrough(t, s, m, key, 7)
	if _, err := s.Balances.RecordBalance(ctx, Balance{ICCID: key, Amount: "40.00", Parsed: true, Text: "Баланс 40,00", Raw: "x", Source: "ussd"}, "50.00", true, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"+79160000001", "+79160000002"} {
		if _, _, err := s.Devices.SendOutcome(ctx, key, to, true, 2); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Minute)

	sim, prev, err := s.Devices.SaveSIM(ctx, SIM{ICCID: simA, IMSI: imsi, PLMN: "25001", ModemID: "imei-1"})
	if err != nil || prev != simA {
		t.Fatalf("identified: prev %q err %v", prev, err)
	}
	if sim.ICCID != simA || sim.IDSource != IDSourceICCID || sim.State != SIMSuspect || sim.FirstSeen.Equal(sim.LastSeen) {
		t.Fatalf("SIM after identification: %+v", sim)
	}
	if _, err := s.Devices.GetSIM(ctx, key); err != ErrNotFound {
		t.Fatalf("IMSI key still there: %v", err)
	}
	sent, err := s.Devices.SentSince(ctx, simA, time.Time{})
	if err != nil || len(sent) != 1 {
		t.Fatalf("sent history under the ICCID: %v %v", sent, err)
	}
	if c := getConf(t, s, "pay-1"); c.ICCID != simA {
		t.Fatalf("confirmation under %q", c.ICCID)
	}
	last, _, err := s.Balances.LatestBalances(ctx, simA)
	if err != nil || last == nil || last.Amount != "40.00" {
		t.Fatalf("balance under the ICCID: %+v %v", last, err)
	}
	if st, err := s.Balances.GetBalanceState(ctx, simA); err != nil || !st.Low {
		t.Fatalf("balance state under the ICCID: %+v %v", st, err)
	}
	evs, err := s.Events.Events(ctx, EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		if e.Object.Kind == "sim" && e.Object.ID == simA {
			types = append(types, e.Type)
		}
	}
	if !slices.Contains(types, "sim.identified") || slices.Contains(types, "sim.changed") {
		t.Fatalf("events of the SIM: %v", types)
	}

	// The same SIM in a modem that cannot read the ICCID stays under it.
	again, _, err := s.Devices.SaveSIM(ctx, SIM{ICCID: key, IMSI: imsi, ModemID: "imei-1"})
	if err != nil || again.ICCID != simA {
		t.Fatalf("known SIM read without its ICCID: %+v %v", again, err)
	}
}

// What is received through a SIM known by its IMSI and later by its ICCID
// is one stream: a long message whose parts come on both sides of the
// switch is one message (and the payment its first part decided gets it as
// its reply), and a message still on the SIM read again after the switch
// is not stored twice.
func TestReceivingSpansTheSwitchFromIMSIToICCID(t *testing.T) {
	const imsi = "250011234567890"
	key := IMSIKey(imsi)
	cases := []struct {
		name   string
		before []Received // read under the IMSI key
		after  []Received // read under the ICCID
		want   []string   // the inbox in the end
		// restamp: what is read after the switch is the network sending it
		// again, newly stamped
		restamp bool
	}{
		{"a long message", []Received{{Seq: 1, Text: "Да, подтверждаю "}},
			[]Received{{Seq: 2, Text: "оплату"}}, []string{"Да, подтверждаю оплату"}, false},
		{"a long message whose first part is read again", []Received{{Seq: 1, Text: "Да, подтверждаю "}},
			[]Received{{Seq: 1, Text: "Да, подтверждаю "}, {Seq: 2, Text: "оплату"}}, []string{"Да, подтверждаю оплату"}, false},
		{"a single SMS read again", []Received{{Text: "Да"}}, []Received{{Text: "Да"}}, []string{"Да"}, false},
		{"a part of an assembled message sent again", []Received{{Seq: 1, Text: "Да, подтверждаю "}, {Seq: 2, Text: "оплату"}},
			[]Received{{Seq: 2, Text: "оплату"}}, []string{"Да, подтверждаю оплату"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := openClocked(t)
			ctx := context.Background()
			s.Devices.SaveModem(ctx, Modem{ID: "imei-1", Port: "/dev/ttyUSB2"})
			if _, _, err := s.Devices.SaveSIM(ctx, SIM{ICCID: key, IMSI: imsi, PLMN: "25001", ModemID: "imei-1"}); err != nil {
				t.Fatal(err)
			}
			c, m := create(t, s, newConf("pay-1"))
			sendThrough(t, s, m, key, 7)
			clk.Advance(time.Minute)
			replied := clk.Now()
			take := func(iccid string, r Received) *InboxMessage {
				t.Helper()
				r.ICCID, r.ModemID, r.Sender, r.Encoding, r.Plain = iccid, "imei-1", customer, "ucs2", true
				if r.SCTS.IsZero() {
					r.SCTS = replied
				}
				if r.Seq > 0 {
					r.ConcatKey, r.Total = customer+"|8|7|2", 2
				}
				got, err := s.Inbox.StoreReceived(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			for _, r := range tc.before {
				take(key, r)
			}
			clk.Advance(time.Minute)
			if _, _, err := s.Devices.SaveSIM(ctx, SIM{ICCID: simA, IMSI: imsi, PLMN: "25001", ModemID: "imei-1"}); err != nil {
				t.Fatal(err)
			}
			var last *InboxMessage
			for _, r := range tc.after {
				if tc.restamp {
					r.SCTS = clk.Now()
				}
				if got := take(simA, r); got != nil {
					last = got
				}
			}
			clk.Advance(11 * time.Minute) // receive.incomplete_after
			if _, err := s.Inbox.FlushIncomplete(ctx, clk.Now().Add(-10*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if got := inboxTexts(t, s); !slices.Equal(got, tc.want) {
				t.Fatalf("inbox %q, want %q", got, tc.want)
			}
			got := getConf(t, s, c.ID)
			if got.ICCID != simA || got.ReplyID == 0 || (last != nil && got.ReplyID != last.ID) {
				t.Fatalf("the payment: %s through %s, reply %d (the message %+v)", got.State, got.ICCID, got.ReplyID, last)
			}
		})
	}
}
