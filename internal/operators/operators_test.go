package operators

import (
	"testing"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/ussd"
)

func TestConfiguredOperatorsOverrideAndExtendTheBuiltIns(t *testing.T) {
	merged, err := Merge(ussd.DefaultProfiles(), []config.Operator{
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

// A SIM's settings are found under its key, else under its IMSI key; its
// send limits are its operator's with each set one replaced.
func TestSIMSettingsAndSendLimits(t *testing.T) {
	ops, err := New([]config.Operator{{PLMN: []string{"25001"}, Limits: config.Limits{PerMinute: 5, PerHour: 50, PerDay: 200}}},
		map[string]config.SIM{
			"89701010000000000001": {MSISDN: "+79160000001", Limits: config.Limits{PerDay: 10}},
			"imsi:250019999999999": {MSISDN: "+79160000002"},
			"89701010000000000003": {MSISDN: "+79160000003"},
			"imsi:250010000000003": {MSISDN: "+79160000004"},
		})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, key, imsi string
		msisdn          string
		limits          api.SendLimits
	}{
		{"by ICCID, one limit set", "89701010000000000001", "250011111111111", "+79160000001", api.SendLimits{PerMinute: 5, PerHour: 50, PerDay: 10}},
		{"by IMSI once the ICCID reads", "89701010000000000002", "250019999999999", "+79160000002", api.SendLimits{PerMinute: 5, PerHour: 50, PerDay: 200}},
		{"the ICCID entry wins", "89701010000000000003", "250010000000003", "+79160000003", api.SendLimits{PerMinute: 5, PerHour: 50, PerDay: 200}},
		{"no entry, no operator", "89701010000000000009", "", "", api.SendLimits{}},
	}
	for _, c := range cases {
		s, _ := ops.SIM(c.key, c.imsi)
		if s.MSISDN != c.msisdn {
			t.Errorf("%s: MSISDN %q, want %q", c.name, s.MSISDN, c.msisdn)
		}
		if got := ops.SendLimits(c.key, c.imsi); got != c.limits {
			t.Errorf("%s: limits %+v, want %+v", c.name, got, c.limits)
		}
	}
	if p, ok := ops.ByPLMN("25001"); !ok || p.Limits.PerMinute != 5 {
		t.Errorf("ByPLMN(25001) = %+v, %v", p, ok)
	}
	if _, ok := ops.ByPLMN("99999"); ok {
		t.Error("ByPLMN found an operator for an unknown PLMN")
	}
}

// A SIM's network is named by its operator profile, else by its PLMN, as
// the modem snapshots name it.
func TestNetworkName(t *testing.T) {
	ops, err := New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ imsi, plmn, want string }{
		{"250011234567890", "25001", "MTS"},
		{"999991234567890", "99999", "99999"}, // no profile
		{"", "25099", "25099"},                // IMSI not read
	} {
		if got := ops.NetworkName(c.imsi, c.plmn); got != c.want {
			t.Errorf("NetworkName(%q, %q) = %q, want %q", c.imsi, c.plmn, got, c.want)
		}
	}
}
