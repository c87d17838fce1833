package ussd

import (
	"encoding/json"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestForIMSI(t *testing.T) {
	ps, err := NewProfiles(append(DefaultProfiles(), Profile{
		Name: "T-Mobile US", PLMN: []string{"310260"}, BalanceCode: "#999#",
	}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		imsi, want string // want "" = not found
	}{
		{"250011234567890", "MTS"},
		{"250021234567890", "MegaFon"},
		{"250991234567890", "Beeline"},
		{"250281234567890", "Beeline"},
		{"250201234567890", "Tele2"},
		{"310260123456789", "T-Mobile US"},
		{"310261234567890", ""}, // 3-digit MNC country: 31026 is not a PLMN there
		{"250051234567890", ""},
		{"25001", ""},
		{"25001123456789012", ""},
		{"25001abc", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := ps.ForIMSI(tt.imsi)
		if (tt.want != "") != ok || got.Name != tt.want {
			t.Errorf("ForIMSI(%q) = %q, %v, want %q", tt.imsi, got.Name, ok, tt.want)
		}
	}
}

// A caller changing the profile it got must not change what others get.
func TestForIMSIReturnsCopy(t *testing.T) {
	ps, err := NewProfiles(DefaultProfiles())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := ps.ForIMSI("250011234567890")
	p.ServiceSenders[0] = "changed"
	p.PLMN[0] = "99999"
	again, _ := ps.ForIMSI("250011234567890")
	if again.ServiceSenders[0] != "MTS" || again.PLMN[0] != "25001" {
		t.Fatalf("profile changed through a returned copy: %+v", again)
	}
}

func TestAllowed(t *testing.T) {
	ps, err := NewProfiles(DefaultProfiles())
	if err != nil {
		t.Fatal(err)
	}
	const mts, megafon, beeline, tele2, yota = "250011234567890", "250021234567890", "250991234567890", "250201234567890", "250111234567890"
	extra := []string{"*111*29#", "1", "bad\"code"}
	tests := []struct {
		imsi, code string
		want       bool
	}{
		{mts, "*100#", true},
		{mts, "*111*0887#", true},
		{megafon, "*100#", true},
		{megafon, "*205#", true},
		{beeline, "*102#", true},
		{beeline, "*110*10#", true},
		{tele2, "*105#", true},
		{tele2, "*201#", true},
		{tele2, "*111*0887#", false}, // MTS's code means something else here
		{mts, "*105#", false},
		{yota, "*100#", false}, // no profile: only what the config allows
		{"", "*100#", false},
		{yota, "*111*29#", true},
		{mts, "1", true},
		{mts, "*100", false},
		{mts, "*100##", false},
		{mts, " *100#", false},
		{mts, "*999#", false},
		{mts, "bad\"code", false}, // in extra, but could break the AT line
		{mts, "", false},
	}
	for _, tt := range tests {
		if got := ps.Allowed(tt.imsi, tt.code, extra); got != tt.want {
			t.Errorf("Allowed(%s, %q) = %v, want %v", tt.imsi, tt.code, got, tt.want)
		}
	}
	if ps.Allowed(mts, "1", nil) {
		t.Error("menu answer allowed without being in extra")
	}
}

func TestNewProfilesErrors(t *testing.T) {
	valid := func() Profile {
		return Profile{Name: "X", PLMN: []string{"25001"}, BalanceCode: "*100#"}
	}
	tests := []struct {
		name   string
		change func(p *Profile)
		want   string
	}{
		{"no name", func(p *Profile) { p.Name = "" }, `profile "": name: empty`},
		{"no plmn", func(p *Profile) { p.PLMN = nil }, `profile "X": plmn: empty`},
		{"short plmn", func(p *Profile) { p.PLMN = []string{"2500"} }, `profile "X": plmn[0]: "2500" is not 5 or 6 digits`},
		{"6-digit plmn in Russia", func(p *Profile) { p.PLMN = []string{"25001", "250011"} }, `plmn[1]: "250011": MCC 250 uses 2-digit MNCs`},
		{"5-digit plmn in the US", func(p *Profile) { p.PLMN = []string{"31026"} }, `MCC 310 uses 3-digit MNCs`},
		{"bad balance code", func(p *Profile) { p.BalanceCode = "*100#;" }, `profile "X": balance_code: ussd: invalid code`},
		{"missing balance code", func(p *Profile) { p.BalanceCode = "" }, `balance_code: ussd: invalid code: empty`},
		{"bad own number code", func(p *Profile) { p.OwnNumberCode = "*111 0887#" }, `own_number_code`},
		{"negative limit", func(p *Profile) { p.Limits.PerHour = -1 }, `limits: negative`},
		{"bad commission", func(p *Profile) { p.Commission = "1,95" }, `commission_percent: "1,95"`},
		{"commission 100", func(p *Profile) { p.Commission = "100" }, `commission_percent`},
		{"negative payment limit", func(p *Profile) { p.PaymentLimits.PerDay = AmountFromKopecks(-1) }, `payment_limits: negative`},
		{"bad regexp", func(p *Profile) { p.BalancePatterns = []string{`ok (?P<amount>\d+)`, `(`} }, `balance_patterns: [1]: error parsing regexp`},
		{"no amount group", func(p *Profile) { p.BalancePatterns = []string{`Баланс (\d+)`} }, `balance_patterns: [0]: no named group "amount"`},
		{"unknown group", func(p *Profile) { p.BalancePatterns = []string{`(?P<cur>р)(?P<amount>\d+)`} }, `unknown group "cur"`},
		{"bad by-SMS regexp", func(p *Profile) { p.BySMSPatterns = []string{`[`} }, `balance_by_sms_patterns: [0]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.change(&p)
			_, err := NewProfiles([]Profile{p})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	_, err := NewProfiles([]Profile{valid(), {Name: "Y", PLMN: []string{"25001"}, BalanceCode: "*102#"}})
	if err == nil || !strings.Contains(err.Error(), `profile "Y": plmn 25001 already belongs to profile "X"`) {
		t.Errorf("duplicate PLMN: err = %v", err)
	}
}

func TestDefaultProfilesData(t *testing.T) {
	want := map[string]struct {
		plmn               []string
		balance, ownNumber string
		commission         string
	}{
		"MTS":     {[]string{"25001"}, "*100#", "*111*0887#", "0.95"},
		"MegaFon": {[]string{"25002"}, "*100#", "*205#", "1.95"},
		"Beeline": {[]string{"25099", "25028"}, "*102#", "*110*10#", "3.9"},
		"Tele2":   {[]string{"25020"}, "*105#", "*201#", "2.45"},
	}
	ps := DefaultProfiles()
	if len(ps) != len(want) {
		t.Fatalf("%d default profiles, want %d", len(ps), len(want))
	}
	for _, p := range ps {
		w, ok := want[p.Name]
		if !ok {
			t.Errorf("unexpected profile %q", p.Name)
			continue
		}
		if strings.Join(p.PLMN, ",") != strings.Join(w.plmn, ",") || p.BalanceCode != w.balance ||
			p.OwnNumberCode != w.ownNumber || p.Commission != w.commission {
			t.Errorf("%s = %+v", p.Name, p)
		}
		if p.Limits.PerMinute <= 0 || p.Limits.PerHour < p.Limits.PerMinute || p.Limits.PerDay < p.Limits.PerHour {
			t.Errorf("%s limits not increasing: %+v", p.Name, p.Limits)
		}
	}
}

// The daemon overrides profiles from YAML: the tags and the amount text
// form must round-trip, and what it reads must pass NewProfiles.
func TestProfileYAML(t *testing.T) {
	in := `
- name: MTS
  plmn: ["25001"]
  balance_code: "*100#"
  own_number_code: "*111*0887#"
  limits: {per_minute: 1, per_hour: 10, per_day: 50}
  service_senders: [MTS, "111"]
  balance_patterns: ['(?i)balans (?P<amount>\d+)']
  balance_by_sms_patterns: ['(?i)zhdite sms']
  commission_percent: "0.95"
  payment_limits: {per_day: "30000", payments_per_day: 5}
`
	var ps []Profile
	if err := yaml.Unmarshal([]byte(in), &ps); err != nil {
		t.Fatal(err)
	}
	profiles, err := NewProfiles(ps)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := profiles.ForIMSI("250010000000001")
	if !ok {
		t.Fatal("profile from YAML not found")
	}
	if p.Limits != (SendLimits{1, 10, 50}) || p.PaymentLimits.PerDay.String() != "30000.00" ||
		p.PaymentLimits.PaymentsPerDay != 5 || p.OwnNumberCode != "*111*0887#" || len(p.ServiceSenders) != 2 {
		t.Errorf("decoded %+v", p)
	}
	if b := p.ParseBalance("balans 17"); !b.Parsed || b.Amount.String() != "17.00" {
		t.Errorf("pattern from YAML not used: %+v", b)
	}
	if !p.BalanceComesBySMS("Zhdite SMS") {
		t.Error("by-SMS pattern from YAML not used")
	}
	out, err := yaml.Marshal(ps[0].PaymentLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `per_day: "30000.00"`) {
		t.Errorf("YAML out:\n%s", out)
	}
}

func TestAmount(t *testing.T) {
	tests := []struct {
		in, want string // want "" = error
	}{
		{"151.25", "151.25"},
		{"-12.3", "-12.30"},
		{"30000", "30000.00"},
		{"0.05", "0.05"},
		{"-0.50", "-0.50"},
		{"0", "0.00"},
		{"1234567890123", "1234567890123.00"},
		{"12345678901234", ""},
		{"1.234", ""},
		{"1,5", ""},
		{"1.", ""},
		{".5", ""},
		{"", ""},
		{"-", ""},
		{"+5", ""},
		{"1 000", ""},
		{"--5", ""},
	}
	for _, tt := range tests {
		a, err := ParseAmount(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseAmount(%q) = %s, want error", tt.in, a)
			}
			continue
		}
		if err != nil || a.String() != tt.want {
			t.Errorf("ParseAmount(%q) = %s, %v, want %s", tt.in, a, err, tt.want)
		}
	}
}

func TestAmountJSON(t *testing.T) {
	b := Balance{Amount: AmountFromKopecks(-1230), Currency: "RUB", Parsed: true}
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"Amount":"-12.30"`) {
		t.Errorf("JSON = %s, want the amount as a string", out)
	}
	var back Balance
	if err := json.Unmarshal(out, &back); err != nil || back.Amount != b.Amount {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	var a Amount
	for _, bad := range []string{`12.30`, `"12,30"`, `{}`} {
		if err := json.Unmarshal([]byte(bad), &a); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
}
