package modemsim

import "testing"

// Networks numbered apart hand out distinct SIMs: a demo fleet's second
// host gets the modems a single network would have added after the first
// host's four, never a copy of them.
func TestFirstModemNumbersTheFleetApart(t *testing.T) {
	one, err := NewNetwork(NetworkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	eight, err := one.AddFleet(8)
	if err != nil {
		t.Fatal(err)
	}
	second, err := NewNetwork(NetworkOptions{FirstModem: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	four, err := second.DefaultFleet()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range four {
		got, want := m.Config(), eight[4+i].Config()
		if got.Name != want.Name || got.ICCID != want.ICCID || got.IMSI != want.IMSI || got.MSISDN != want.MSISDN || got.IMEI != want.IMEI {
			t.Errorf("modem %d of the second network: %s %s %s, want %s %s %s", i, got.Name, got.ICCID, got.MSISDN, want.Name, want.ICCID, want.MSISDN)
		}
		if first := eight[i].Config(); got.ICCID == first.ICCID || got.MSISDN == first.MSISDN {
			t.Errorf("modem %d of the second network repeats the first's SIM %s", i, first.ICCID)
		}
	}
	if n := len(second.Phones().Numbers()); n == 0 {
		t.Error("the second network has no customer phones")
	}
}
