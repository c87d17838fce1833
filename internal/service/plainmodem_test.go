package service

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

func (h *harness) sims() []api.SIM {
	var out struct{ SIMs []api.SIM }
	h.do("GET", "/v1/sims", nil, &out)
	return out.SIMs
}

// A modem that answers neither AT+CRSM, AT+CCID nor AT^ICCID (with ERROR,
// or not at all) works with its SIM known by the IMSI: limits (and their
// `sims:` entry under the IMSI key), balances and payment confirmations all
// work. Once the ICCID can be read (after a reset), the SIM moves to it
// with its history.
func TestSIMWithoutICCIDWorksAndMovesToItsICCIDLater(t *testing.T) {
	for _, hiding := range []modemsim.ICCIDHiding{modemsim.ICCIDRefused, modemsim.ICCIDIgnored} {
		t.Run(string(hiding), func(t *testing.T) { testSIMWithoutICCID(t, hiding) })
	}
}

func testSIMWithoutICCID(t *testing.T, hiding modemsim.ICCIDHiding) {
	const customer = "+79161230001"
	var key string
	h := startHarnessModems(t, modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond, ReportDelay: 10 * time.Millisecond},
		func(c *config.Config, _ *modemsim.Network, ms []*modemsim.Modem) {
			key = store.IMSIKey(ms[0].Config().IMSI)
			c.SIMs = map[string]config.SIM{key: {Name: "plain", BalanceLow: "50", Limits: config.Limits{PerMinute: 5, PerHour: 7, PerDay: 9}}}
		}, modemsim.ModemConfig{Dialect: modemsim.Generic, PLMN: "25001", HideICCID: hiding})
	m := h.modems[0]
	iccid := m.Config().ICCID
	h.waitReady(1)

	sims := h.sims()
	if len(sims) != 1 || sims[0].ICCID != key || sims[0].IDSource != store.IDSourceIMSI {
		t.Fatalf("SIMs %+v, want one keyed %s by its IMSI", sims, key)
	}
	if st := h.modemStatus(m.Path()); st.ICCID != key || st.SIMIDSource != store.IDSourceIMSI {
		t.Fatalf("modem shows SIM %q (%s)", st.ICCID, st.SIMIDSource)
	}

	h.net.Phones().Add(customer, modemsim.PhoneRule{Reply: "Да", After: 50 * time.Millisecond})
	var acc api.Message
	h.do("POST", "/v1/messages", map[string]any{"to": customer, "text": "без ICCID"}, &acc)
	var c api.Confirmation
	if code := h.do("POST", "/v1/confirmations", map[string]any{"id": "pay-1", "phone": customer, "txn": "P-1", "amount": "1500.00", "currency": "RUB"}, &c); code != http.StatusAccepted {
		t.Fatalf("POST /v1/confirmations: %d", code)
	}
	eventually(t, "message sent", func() bool {
		h.do("GET", "/v1/messages/"+acc.ID, nil, &acc)
		return acc.State == store.Sent || acc.State == store.Delivered
	})
	eventually(t, "payment confirmed", func() bool {
		h.do("GET", "/v1/confirmations/pay-1", nil, &c)
		return c.State == payment.Confirmed
	})
	if acc.ICCID != key || c.ICCID != key {
		t.Fatalf("sent through %q, confirmation on %q; want %s", acc.ICCID, c.ICCID, key)
	}
	st := h.modemStatus(m.Path())
	if st.SentLastHour != 2 || st.Limits == nil || st.Limits.PerHour != 7 {
		t.Fatalf("limits of the SIM: sent %d, limits %+v; want 2 of 7 an hour", st.SentLastHour, st.Limits)
	}
	m.USSD().SetBalance("40.00")
	var bal api.BalanceView
	if code := h.do("POST", "/v1/sims/"+key+"/balance", struct{}{}, &bal); code != http.StatusOK || bal.Balance == nil ||
		bal.Balance.Amount != "40.00" || !bal.State.Low || bal.Threshold != "50.00" {
		t.Fatalf("balance by IMSI key: %d %+v", code, bal)
	}

	// The ICCID becomes readable; a reset makes the daemon read it.
	m.Faults().HideICCID(modemsim.ICCIDShown)
	m.Reboot()
	eventually(t, "SIM moved to its ICCID", func() bool {
		s := h.sims()
		return len(s) == 1 && s[0].ICCID == iccid && h.modemStatus(m.Path()).State == StateReady
	})
	if s := h.sims()[0]; s.IDSource != store.IDSourceICCID || s.IMSI != m.Config().IMSI {
		t.Fatalf("identified SIM %+v", s)
	}
	st = h.modemStatus(m.Path())
	if st.ICCID != iccid || st.SIMIDSource != store.IDSourceICCID || st.SentLastHour != 2 || st.Limits == nil || st.Limits.PerHour != 7 {
		t.Fatalf("after identification: SIM %s (%s), sent %d, limits %+v", st.ICCID, st.SIMIDSource, st.SentLastHour, st.Limits)
	}
	h.do("GET", "/v1/messages/"+acc.ID, nil, &acc)
	h.do("GET", "/v1/confirmations/pay-1", nil, &c)
	if acc.ICCID != iccid || c.ICCID != iccid || c.State != payment.Confirmed {
		t.Fatalf("history not moved: message on %q, confirmation on %q (%s)", acc.ICCID, c.ICCID, c.State)
	}
	bal = api.BalanceView{}
	if code := h.do("GET", "/v1/sims/"+iccid+"/balance", nil, &bal); code != http.StatusOK || bal.Balance == nil ||
		bal.Balance.Amount != "40.00" || !bal.State.Low {
		t.Fatalf("balance under the ICCID: %d %+v", code, bal)
	}
	if types := h.eventTypes("sim", iccid); !slices.Contains(types, "sim.identified") || slices.Contains(types, "sim.changed") {
		t.Fatalf("SIM events %v", types)
	}
	if code := h.do("GET", "/v1/sims/"+key+"/balance", nil, nil); code != http.StatusNotFound {
		t.Fatalf("IMSI key still answers: %d", code)
	}
}
