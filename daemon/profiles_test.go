package daemon

import (
	"fmt"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/ussd"
)

func TestConfiguredOperatorsOverrideAndExtendTheBuiltIns(t *testing.T) {
	merged, err := mergeProfiles(ussd.DefaultProfiles(), []config.Operator{
		{PLMN: []string{"25001"}, BalanceCode: "*100*1#", Limits: config.Limits{PerMinute: 9, PerDay: -1},
			PaymentLimits: config.PaymentLimits{PerDay: "0", PaymentsPerDay: -1}},
		{PLMN: []string{"25099"}, PaymentLimits: config.PaymentLimits{PaymentsPerDay: 3}},
		{PLMN: []string{"25011"}, Name: "Yota", BalanceCode: "*100#"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := ussd.NewProfiles(merged)
	if err != nil {
		t.Fatal(err)
	}
	mts, ok := ps.ForIMSI("250011234567890")
	if !ok || mts.Name != "MTS" || mts.BalanceCode != "*100*1#" || mts.Limits.PerMinute != 9 || mts.Limits.PerDay != 0 {
		t.Fatalf("MTS after override: %+v", mts)
	}
	builtinMTS, _ := ussd.NewProfiles(ussd.DefaultProfiles())
	orig, _ := builtinMTS.ForIMSI("250011234567890")
	if mts.Limits.PerHour != orig.Limits.PerHour {
		t.Fatalf("per-hour limit changed though not configured: %d, want %d", mts.Limits.PerHour, orig.Limits.PerHour)
	}
	if pl := mts.PaymentLimits; !pl.PerDay.IsZero() || pl.PaymentsPerDay != 0 || pl.PerPayment != orig.PaymentLimits.PerPayment {
		t.Fatalf("MTS payment limits after lifting the daily ones: %+v (built in %+v)", pl, orig.PaymentLimits)
	}
	if beeline, _ := ps.ForIMSI("250991234567890"); beeline.PaymentLimits.PaymentsPerDay != 3 {
		t.Fatalf("Beeline payments a day %d, want the configured 3", beeline.PaymentLimits.PaymentsPerDay)
	}
	yota, ok := ps.ForIMSI("250111234567890")
	if !ok || yota.Name != "Yota" {
		t.Fatalf("added operator: %+v %v", yota, ok)
	}
}

func TestBalanceChecksSpreadOverTheWholeStaggerWindow(t *testing.T) {
	window := 10 * time.Minute
	latest := time.Duration(0)
	for i := 0; i < 200; i++ {
		off := staggerOffset(fmt.Sprintf("89701%014d", i), window)
		if off < 0 || off >= window {
			t.Fatalf("offset %s outside the window", off)
		}
		latest = max(latest, off)
	}
	if latest < window/2 {
		t.Fatalf("200 SIMs all checked within %s of a %s window", latest, window)
	}
}
