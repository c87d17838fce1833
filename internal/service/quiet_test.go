package service

import (
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// Set-up turns each family's periodic reports off, and does it again when
// the modem was reset (which turns them back on): a Huawei's reset goes
// unannounced and is caught by the health check, a Quectel announces it.
// Firmware that refuses the command (SIM800 has no AT+AUTOCSQ) still works.
func TestPeriodicReportsAreTurnedOffAtSetUpAndAfterAReset(t *testing.T) {
	tests := []struct {
		dialect modemsim.Dialect
		quiet   string // the command the modem must receive
		reboot  bool   // whether to check the set-up after a reset too
	}{
		{modemsim.Huawei, "AT^CURC=0", true},
		{modemsim.Quectel, `AT+QINDCFG="csq",0,0`, true},
		{modemsim.SIMCom, "AT+AUTOCSQ=0", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.dialect), func(t *testing.T) {
			h := startHarness(t, tt.dialect)
			h.waitReady(1)
			m := h.modems[0]
			if n := m.Record().Commands(tt.quiet); n != 1 {
				t.Fatalf("%s received %d times at set-up, want 1", tt.quiet, n)
			}
			if !tt.reboot {
				return
			}
			m.Reboot()
			eventually(t, tt.quiet+" again after the reset", func() bool { return m.Record().Commands(tt.quiet) >= 2 })
			h.waitReady(1)
			// One start-up announces itself in several lines (RDY, then
			// "+CFUN: 1"): one set-up answers them all.
			if n := m.Record().Commands(tt.quiet); n != 2 {
				t.Fatalf("%s received %d times after one reset, want 2", tt.quiet, n)
			}
		})
	}
}

// Nothing vendor-specific reaches a modem of no known family, and a
// Huawei whose firmware refuses AT^CURC is served all the same.
func TestQuietingIsOnlyTriedAndNeverFailsSetUp(t *testing.T) {
	h := startHarnessPrepared(t, modemsim.NetworkOptions{}, func(_ *config.Config, _ *modemsim.Network, ms []*modemsim.Modem) {
		ms[1].Faults().FailCommand("AT^CURC", 1000, "COMMAND NOT SUPPORT")
	}, modemsim.Generic, modemsim.Huawei)
	h.waitReady(2)
	generic, huawei := h.modems[0], h.modems[1]
	for _, prefix := range []string{"AT^", "AT+QINDCFG", "AT+AUTOCSQ", "AT+CNSMOD"} {
		if n := generic.Record().Commands(prefix); n != 0 {
			t.Errorf("the generic modem received %d commands starting %s", n, prefix)
		}
	}
	if n := huawei.Record().Commands("AT^CURC=0"); n != 1 {
		t.Errorf("AT^CURC=0 sent %d times, want 1 (refused, not retried)", n)
	}
}

// A start-up whose lines come spread out, as real modems send them (RDY,
// and "+CFUN: 1" only once the set-up RDY started is under way), cuts off
// the command in flight. The set-up carries on, and the line, which may
// have undone what came before it, gets one more set-up: on the same
// port, since a reboot is no failure to reopen it for.
func TestABootLineDuringTheSetUpIsAnsweredOnTheSamePort(t *testing.T) {
	h := startHarness(t, modemsim.Quectel)
	h.waitReady(1)
	m := h.modems[0]
	m.Faults().FailCommand("AT+CMGF=", 1, "+CFUN: 1")
	m.Reboot()
	// At start-up, in the set-up RDY started (cut off, then again), and
	// in the one "+CFUN: 1" started.
	eventually(t, "AT+CMGF= in the last set-up", func() bool { return m.Record().Commands("AT+CMGF=") >= 4 })
	h.waitReady(1)
	st := h.modemStatus(m.Path())
	if st.Reconnects != 0 || len(st.Resets) != 0 {
		t.Fatalf("after a reboot: reconnects %d, resets %v; want none", st.Reconnects, st.Resets)
	}
	if n := m.Record().Commands("AT+CMGF="); n != 4 {
		t.Fatalf("AT+CMGF= sent %d times, want 4", n)
	}
}
