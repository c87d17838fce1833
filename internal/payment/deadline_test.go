package payment

import (
	"strings"
	"testing"
	"time"
)

func TestAtDeadline(t *testing.T) {
	expires := time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)
	rules := Deadlines{Grace: 2 * time.Minute, LostAfter: time.Hour}
	cases := []struct {
		name    string
		state   State
		now     time.Time
		rules   Deadlines
		simRead bool // ready since now - grace, swept from expires + grace
		want    Action
	}{
		{"sent, before the deadline", Sent, expires.Add(-time.Second), rules, true, Wait},
		{"sent, within the grace", Sent, expires.Add(rules.Grace - time.Second), rules, true, Wait},
		{"sent, grace over, SIM read", Sent, expires.Add(rules.Grace), rules, true, Expire},
		{"sent, grace over, SIM out", Sent, expires.Add(rules.Grace), rules, false, Wait},
		{"sent, SIM out until just before lost", Sent, expires.Add(rules.LostAfter - time.Second), rules, false, Wait},
		{"sent, SIM out until lost", Sent, expires.Add(rules.LostAfter), rules, false, Fail},
		{"sent, SIM back after lost", Sent, expires.Add(2 * rules.LostAfter), rules, true, Expire},
		{"sent, SIM out, lost_after 0 waits forever", Sent, expires.Add(1000 * time.Hour), Deadlines{Grace: time.Minute}, false, Wait},
		{"sent, no grace", Sent, expires, Deadlines{}, true, Expire},
		{"queued, before the deadline", Queued, expires.Add(-time.Second), rules, true, Wait},
		{"queued at the deadline", Queued, expires, rules, false, SMSExpires},
		{"queued long after", Queued, expires.Add(48 * time.Hour), rules, true, SMSExpires},
		{"confirmed", Confirmed, expires.Add(48 * time.Hour), rules, false, Wait},
		{"cancelled", Cancelled, expires.Add(48 * time.Hour), rules, true, Wait},
		{"expired", Expired, expires.Add(48 * time.Hour), rules, true, Wait},
		{"failed", Failed, expires.Add(48 * time.Hour), rules, false, Wait},
	}
	for _, c := range cases {
		var asked [][2]time.Time
		v := AtDeadline(c.state, expires, c.now, c.rules, func(readySince, sweptFrom time.Time) bool {
			asked = append(asked, [2]time.Time{readySince, sweptFrom})
			return c.simRead
		})
		if v.Action != c.want {
			t.Errorf("%s: %v, want %v", c.name, v.Action, c.want)
		}
		for _, a := range asked {
			if !a[0].Equal(c.now.Add(-c.rules.Grace)) {
				t.Errorf("%s: asked whether the SIM's modem was ready since %v, want now - grace", c.name, a[0])
			}
			// A reply the network handed over within the grace is in
			// storage before such a sweep lists it.
			if !a[1].Equal(expires.Add(c.rules.Grace)) {
				t.Errorf("%s: asked for a sweep begun from %v, want the deadline + grace", c.name, a[1])
			}
		}
		if c.state != Sent || c.now.Before(expires.Add(c.rules.Grace)) {
			if len(asked) > 0 {
				t.Errorf("%s: asked about the SIM when it cannot matter", c.name)
			}
		}
		if (v.Action == Fail) != (v.Reason != "") {
			t.Errorf("%s: reason %q with %v", c.name, v.Reason, v.Action)
		}
	}
	v := AtDeadline(Sent, expires, expires.Add(time.Hour), rules, func(time.Time, time.Time) bool { return false })
	if !strings.HasPrefix(v.Reason, "SIM failure: ") || !strings.Contains(v.Reason, "1h0m0s") {
		t.Errorf("lost SIM reason %q", v.Reason)
	}
}
