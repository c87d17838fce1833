package service

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// An idle modem is checked once per idle_check_after, not every other
// period. The times are the simulator's: when each check reached the modem.
func TestIdleCheckRunsAtThePeriodConfigured(t *testing.T) {
	const period = 200 * time.Millisecond
	h := startHarnessWith(t, func(c *config.Config) { c.Health.IdleCheckAfter = period }, modemsim.Generic)
	h.waitReady(1)
	m := h.modems[0]
	// The first AT+CNMI? is set-up's; the health checks follow.
	eventually(t, "seven health checks", func() bool { return m.Record().Commands("AT+CNMI?") >= 8 })
	at := m.Record().CommandTimes("AT+CNMI?")[1:8]
	var gaps []time.Duration
	for i := 1; i < len(at); i++ {
		gaps = append(gaps, at[i].Sub(at[i-1]))
	}
	slices.Sort(gaps)
	// A check is due a period after the last one ended, so a gap is the
	// period plus one check's few commands; the old ticker gave two periods.
	if gaps[0] < period || gaps[len(gaps)/2] > period*3/2 {
		t.Fatalf("gaps between idle checks %v, want about %v", gaps, period)
	}
}

// A modem that cannot work is re-checked within the idle command budget:
// one whose SIM answers AT+CPIN? but gives no IMSI is not set up again at
// every re-check, and one without a SIM costs one command a re-check.
// Commands are counted per budget window in the simulator's time.
func TestUnusableModemIsProbedWithinTheCommandBudget(t *testing.T) {
	const (
		period    = 50 * time.Millisecond // the harness's "minute": budget window and idle check
		perWindow = 2
	)
	cases := []struct {
		name     string
		unusable func(*modemsim.Modem)
		reason   string
		state    ModemState
	}{
		{"SIM gives no IMSI", func(m *modemsim.Modem) {
			m.Faults().HideICCID(modemsim.ICCIDRefused)
			m.Faults().FailCommand("AT+CIMI", 1<<30, "ERROR")
		}, "IMSI", StateSIMMissing},
		{"no SIM", func(m *modemsim.Modem) { m.SIM().Remove() }, "CME", StateSIMMissing},
		{"no coverage", func(m *modemsim.Modem) { m.Radio().SetRegistration(2) }, "not registered", StateNoService},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := startHarnessPrepared(t, modemsim.NetworkOptions{}, func(c *config.Config, _ *modemsim.Network, ms []*modemsim.Modem) {
				c.Health.IdleCheckAfter = period
				c.Health.CommandsPerMinute = perWindow
				tc.unusable(ms[0])
			}, modemsim.Generic)
			m := h.modems[0]
			eventually(t, "thirty budget windows of probing", func() bool {
				at := m.Record().CommandTimes("")
				return len(at) > 0 && at[len(at)-1].Sub(at[0]) >= 30*period
			})
			at := m.Record().CommandTimes("")
			span := at[len(at)-1].Sub(at[0])
			// The budget is paid after it is spent: one set-up's burst
			// (about 20 commands) may come before the windows that cover it.
			windows := float64(span) / float64(period)
			allowed := int(perWindow*windows) + 1 + 25
			t.Logf("%d commands in %.1f budget windows (allowed %d)", len(at), windows, allowed)
			if len(at) > allowed {
				t.Fatalf("%d commands in %v (%.1f budget windows), want at most %d", len(at), span, windows, allowed)
			}
			if n := m.Record().Commands("AT+CPIN?") + m.Record().Commands("AT+CREG?"); n < 2 {
				t.Fatalf("re-checked %d times in %v", n, span)
			}
			// Between re-checks, that is; a set-up again shows probing.
			var st ModemStatus
			eventually(t, string(tc.state), func() bool {
				st = h.modemStatus(m.Path())
				return st.State == tc.state
			})
			if !strings.Contains(st.LastError, tc.reason) {
				t.Fatalf("modem held for %q, want for want of %s", st.LastError, tc.reason)
			}
			if types := h.eventTypes("modem", st.ID); strings.Count(strings.Join(types, " "), "modem."+string(tc.state)) != 1 {
				t.Fatalf("modem events %v: %s announced other than once", types, tc.state)
			}
		})
	}
}
