package service

import (
	"fmt"
	"testing"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// A reply announced by +CMTI whose read failed (the SIM busy for a moment,
// a plain ERROR) sits in the modem's storage. It was written in time, so it
// must decide the payment: the modem must not count as having read its SIM
// (and let the deadline expire the payment) while the reply waits there
// for the next storage poll, which by default comes after the grace.
func TestAReplyWhoseReadFailedStillDecides(t *testing.T) {
	for i, final := range []string{"+CMS ERROR: 314", "ERROR"} {
		t.Run(final, func(t *testing.T) {
			r := startConfirmRig(t, nil, 1) // storage polled hourly
			customer := fmt.Sprintf("+7916123450%d", i)
			// The SMS's status report is read with AT+CMGR too: taken first,
			// the failure meets the reply.
			c := r.deliveredConfirmation(customer, "U-1")
			m := r.modems[0]
			m.Faults().FailCommand("AT+CMGR", 1, final)
			if err := r.net.Phones().Send(customer, m.Config().MSISDN, "Да"); err != nil {
				t.Fatal(err)
			}
			got := r.waitState(c.ID, payment.Confirmed)
			if got.ReplyInboxID == 0 {
				t.Fatalf("confirmed without its reply: %+v", got)
			}
			if n := m.Record().Commands("AT+CMGR"); n < 1 {
				t.Fatalf("the reply was never read with AT+CMGR (%d)", n)
			}
		})
	}
}

// deliveredConfirmation asks customer (who answers nothing by himself) to
// confirm a payment that expires in 3 s, and returns it once its SMS was
// delivered: the status report is read and out of the way, so what the
// test sends next is all that waits in the modem's storage.
func (r *confirmRig) deliveredConfirmation(customer, txn string) api.Confirmation {
	r.t.Helper()
	r.net.Phones().Add(customer, modemsim.PhoneRule{Never: true})
	c := r.confirm(map[string]any{"id": "pay-1", "phone": customer, "txn": txn, "amount": "10", "currency": "RUB", "ttl": "3s"})
	c = r.waitState(c.ID, payment.Sent)
	eventually(r.t, "the SMS delivered", func() bool {
		var sms api.Message
		r.do("GET", "/v1/messages/"+c.MessageID, nil, &sms)
		return sms.State == api.MessageDelivered
	})
	return c
}
