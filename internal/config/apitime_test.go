package config

import (
	"testing"
	"time"
)

// A balance check asked through the API ends the session on the modem and
// answers within the server's write timeout, with time to spare; the
// longest reply timeout still fits its exchange in the check.
func TestABalanceCheckFitsTheWriteTimeout(t *testing.T) {
	if spare := HTTPWriteTimeout - USSDEndTime - USSDCheckBudget; spare < 5*time.Second {
		t.Errorf("a balance check leaves %s of the write timeout, want 5s at least", spare)
	}
	if MaxUSSDReplyTimeout+USSDCommandTime > USSDCheckBudget || MaxUSSDReplyTimeout <= 0 {
		t.Errorf("ussd.reply_timeout up to %s does not fit the check's %s", MaxUSSDReplyTimeout, USSDCheckBudget)
	}
}
