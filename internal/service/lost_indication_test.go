package service

import (
	"fmt"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// storedOn counts the messages waiting in a simulated modem's storage.
func storedOn(m *modemsim.Modem) int {
	n := 0
	for _, mem := range []string{"SM", "ME"} {
		n += max(m.Record().Stored(mem), 0)
	}
	return n
}

// Some firmware discards a +CMTI that falls due while a command runs
// (an indication mode that drops rather than buffers): a reply written in
// time then sits in the SIM's storage, unannounced, until a sweep. The
// storage poll comes long after the deadline and its grace (hourly here),
// so the deadline rule must not take a modem that has been ready for a SIM
// that has been read: the reply still decides the payment.
func TestAReplyWhoseAnnouncementWasLostStillDecides(t *testing.T) {
	cases := []struct {
		reply string
		want  payment.State
	}{
		{"Да", payment.Confirmed},
		{"0", payment.Cancelled},
	}
	for i, tc := range cases {
		t.Run(string(tc.want), func(t *testing.T) {
			r := startConfirmRig(t, nil, 1) // storage polled hourly
			customer := fmt.Sprintf("+7916123460%d", i)
			c := r.deliveredConfirmation(customer, "L-1")
			m := r.modems[0]
			m.Faults().LoseIndications("+CMTI", 1)
			if err := r.net.Phones().Send(customer, m.Config().MSISDN, tc.reply); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the reply stored on the SIM", func() bool { return storedOn(m) == 1 })
			if now := time.Now(); !now.Before(c.ExpiresAt) {
				t.Fatalf("the reply reached the SIM only at %v, after the deadline %v: the rig is too slow to test this", now, c.ExpiresAt)
			}
			got := r.waitState(c.ID, tc.want)
			if got.ReplyInboxID == 0 {
				t.Fatalf("decided without its reply: %+v", got)
			}
			// Deleted once stored, which is after the decision.
			eventually(t, "the reply deleted from the SIM", func() bool { return storedOn(m) == 0 })
		})
	}
}

// A confirmation nobody answers still expires, but only once a sweep of
// its SIM's storage that began after the deadline and its grace found no
// reply; and that sweep is the only one: a confirmation decided in time,
// and the look of the deadline rule again and again while it waits, ask for
// none.
func TestSilenceExpiresAfterOneSweepOfItsSIM(t *testing.T) {
	r := startConfirmRig(t, nil, 1) // storage polled hourly
	m := r.modems[0]
	grace := r.cfg.Confirmations.ExpiryGrace
	startup := len(m.Record().CommandTimes("AT+CMGL"))

	answers, silent := "+79161234700", "+79161234701"
	r.net.Phones().Add(answers, modemsim.PhoneRule{Reply: "Да"})
	r.net.Phones().Add(silent, modemsim.PhoneRule{Never: true})
	answered := r.confirm(map[string]any{"id": "pay-1", "phone": answers, "txn": "S-1", "amount": "10", "currency": "RUB", "ttl": "1s"})
	answered = r.waitState(answered.ID, payment.Confirmed)
	c := r.confirm(map[string]any{"id": "pay-2", "phone": silent, "txn": "S-2", "amount": "10", "currency": "RUB", "ttl": "1s"})
	c = r.waitState(c.ID, payment.Expired)

	sweeps := m.Record().CommandTimes("AT+CMGL")[startup:]
	if len(sweeps) != 1 {
		t.Fatalf("%d sweeps after the start-up one (%v), want 1", len(sweeps), sweeps)
	}
	if from := c.ExpiresAt.Add(grace); sweeps[0].Before(from) || sweeps[0].After(c.FinalAt) {
		t.Fatalf("swept at %v; want after the deadline and grace (%v), before it expired (%v)", sweeps[0], from, c.FinalAt)
	}
	if !answered.ExpiresAt.Add(grace).Before(c.FinalAt) {
		t.Fatalf("the answered confirmation's grace (%v) did not end before the other expired (%v)", answered.ExpiresAt.Add(grace), c.FinalAt)
	}
}
