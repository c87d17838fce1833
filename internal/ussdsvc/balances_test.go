package ussdsvc

import (
	"fmt"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/operators"
	"github.com/gsmbridge/gsmbridge/ussd"
)

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

// An operator's balance_interval beats balance.interval for its SIMs only.
func TestBalanceIntervalPerOperator(t *testing.T) {
	ops := []config.Operator{{PLMN: []string{"25001"}, BalanceInterval: 6 * time.Hour}}
	s, err := New(Deps{}, Options{Balance: config.Balance{Interval: 24 * time.Hour}, Operators: ops})
	if err != nil {
		t.Fatal(err)
	}
	for imsi, want := range map[string]time.Duration{"250011234567890": 6 * time.Hour, "250991234567890": 24 * time.Hour, "": 24 * time.Hour} {
		if got := s.balances.balanceInterval(imsi); got != want {
			t.Errorf("IMSI %q: every %s, want %s", imsi, got, want)
		}
	}
}

// A SIM's balance_low makes a parsed balance under it low; an unparsed one
// never is, and a SIM without a threshold has none.
func TestLowThreshold(t *testing.T) {
	const iccid = "89701012345678901234"
	ops, err := operators.New(nil, map[string]config.SIM{iccid: {BalanceLow: "50"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Deps{Operators: ops}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	amount := func(v string) ussd.Balance {
		a, err := ussd.ParseAmount(v)
		if err != nil {
			t.Fatal(err)
		}
		return ussd.Balance{Parsed: true, Amount: a}
	}
	tests := []struct {
		name      string
		iccid     string
		b         ussd.Balance
		threshold string
		low       bool
	}{
		{"under", iccid, amount("49.99"), "50.00", true},
		{"at", iccid, amount("50"), "50.00", false},
		{"unparsed", iccid, ussd.Balance{}, "50.00", false},
		{"no threshold", "89701099999999999999", amount("1"), "", false},
	}
	for _, tt := range tests {
		threshold, low := s.balances.lowThreshold(tt.iccid, "", tt.b)
		if threshold != tt.threshold || low != tt.low {
			t.Errorf("%s: %q %v, want %q %v", tt.name, threshold, low, tt.threshold, tt.low)
		}
	}
}
