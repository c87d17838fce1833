package ussd

import (
	"fmt"
	"regexp"
	"slices"
)

// Profile is what gsmbridge knows about one operator. It is plain data with
// YAML tags so the daemon can override or extend DefaultProfiles; NewProfiles
// validates it.
type Profile struct {
	PLMN          []string `yaml:"plmn"`
	Name          string   `yaml:"name"`
	BalanceCode   string   `yaml:"balance_code"`
	OwnNumberCode string   `yaml:"own_number_code"`
	// Limits caps outgoing SMS so a personal SIM is not blocked as a spammer.
	Limits SendLimits `yaml:"limits"`
	// ServiceSenders are sender names of the operator's own service SMS.
	ServiceSenders []string `yaml:"service_senders"`
	// BalancePatterns are regular expressions with a named group "amount" and
	// optionally "sign" or "minus" (non-empty means negative). They are tried
	// in order before the generic parser.
	BalancePatterns []string `yaml:"balance_patterns"`
	// BySMSPatterns match replies saying the balance will come by SMS; generic
	// ones apply after them.
	BySMSPatterns []string `yaml:"balance_by_sms_patterns"`
	// Commission is the percentage the operator keeps on payments from the
	// balance, a decimal as a string ("0.95").
	Commission    string        `yaml:"commission_percent"`
	PaymentLimits PaymentLimits `yaml:"payment_limits"`

	// Set by NewProfiles; a Profile built by hand compiles on use.
	balanceRE, bySMSRE []*regexp.Regexp
}

// SendLimits are SMS counts per window; 0 means no limit.
type SendLimits struct {
	PerMinute int `yaml:"per_minute"`
	PerHour   int `yaml:"per_hour"`
	PerDay    int `yaml:"per_day"`
}

// PaymentZone is the time zone in which operators count payment days and months.
const PaymentZone = "Europe/Moscow"

// PaymentLimits are the operator's caps on payments from the phone balance.
// A zero amount or count means no limit is known. Days and months are
// calendar days and months in PaymentZone.
type PaymentLimits struct {
	PerPayment     Amount `yaml:"per_payment"`
	PerDay         Amount `yaml:"per_day"`
	PerMonth       Amount `yaml:"per_month"`
	PaymentsPerDay int    `yaml:"payments_per_day"`
}

// defaultSendLimits are guesses for personal SIMs: no operator publishes the
// rate at which it takes a subscriber SIM for a bulk sender, so they stay at
// what a busy person sends. docs/sending.md gives the published hints and how
// to tune them from experience.
var defaultSendLimits = SendLimits{PerMinute: 2, PerHour: 20, PerDay: 100}

// amountPattern matches a signed amount with optional thousands groups and
// decimals inside the default profile patterns; the captured text is then read
// by the same code as the generic parser.
const amountPattern = `[-−]?\d{1,3}(?:[ \x{00A0}\x{2009}\x{202F}]\d{3})+(?:[.,]\d{1,2})?|[-−]?\d+(?:[.,]\d{1,2})?`

// rub builds an amount of whole roubles for the tables below.
func rub(r int64) Amount { return AmountFromKopecks(r * 100) }

// DefaultProfiles returns the four Russian operators. Balance codes come from
// the field notes. Own-number codes are the widely published ones (MTS
// *111*0887# answers by SMS; MegaFon *205#, Beeline *110*10#, Tele2 *201#);
// operators change them, so they are worth checking on a live SIM. Commissions
// and payment limits are as the project brief gives them and unverified: the
// brief does not say whether the MTS and Beeline sums are per payment or per
// day, and they are read here as per day.
func DefaultProfiles() []Profile {
	return []Profile{
		{
			PLMN: []string{"25001"}, Name: "MTS",
			BalanceCode: "*100#", OwnNumberCode: "*111*0887#",
			Limits:         defaultSendLimits,
			ServiceSenders: []string{"MTS", "111", "0890"},
			BalancePatterns: []string{
				`(?i)(?:баланс|balans|balance)\s*:?\s*(?P<amount>` + amountPattern + `)\s*(?:руб|р|r|₽)`,
				`(?i)(?P<minus>минус|minus)\s*:?\s*(?P<amount>` + amountPattern + `)\s*(?:руб|р|r|₽)`,
			},
			Commission:    "0.95",
			PaymentLimits: PaymentLimits{PerDay: rub(30000), PaymentsPerDay: 5},
		},
		{
			PLMN: []string{"25002"}, Name: "MegaFon",
			BalanceCode: "*100#", OwnNumberCode: "*205#",
			Limits:         defaultSendLimits,
			ServiceSenders: []string{"MegaFon", "000100", "0500"},
			BalancePatterns: []string{
				`(?i)(?:баланс|balans|balance)\s*:?\s*(?P<amount>` + amountPattern + `)\s*(?:руб|р|r|₽)`,
			},
			Commission:    "1.95",
			PaymentLimits: PaymentLimits{PerMonth: rub(30000)},
		},
		{
			PLMN: []string{"25099", "25028"}, Name: "Beeline",
			BalanceCode: "*102#", OwnNumberCode: "*110*10#",
			Limits:         defaultSendLimits,
			ServiceSenders: []string{"Beeline", "0611"},
			BalancePatterns: []string{
				`(?i)(?:osnovnoj|основной|vash|ваш)\s+(?:balans|баланс)\s*:?\s*(?P<amount>` + amountPattern + `)\s*(?:руб|р|r|₽)`,
			},
			Commission:    "3.9",
			PaymentLimits: PaymentLimits{PerDay: rub(15000), PaymentsPerDay: 10},
		},
		{
			PLMN: []string{"25020"}, Name: "Tele2",
			BalanceCode: "*105#", OwnNumberCode: "*201#",
			Limits:         defaultSendLimits,
			ServiceSenders: []string{"Tele2", "BALANCE", "611"},
			BalancePatterns: []string{
				// Tele2 writes Cyrillic in Latin look-alikes to stay in GSM 7-bit:
				// "OCTATOK 187.24 p." is "ОСТАТОК 187.24 р.".
				`(?i)(?:ostatok|octatok|остаток|balance|balans|баланс)\s*:?\s*(?P<amount>` + amountPattern + `)\s*(?:руб|р|r|p\.|₽)`,
			},
			Commission:    "2.45",
			PaymentLimits: PaymentLimits{PerPayment: rub(1000)},
		},
	}
}

// Profiles finds the profile of a SIM. It is immutable after NewProfiles and
// safe for concurrent use.
type Profiles struct {
	list   []Profile
	byPLMN map[string]int
}

// NewProfiles validates ps and compiles their patterns. Errors name the
// profile and the field.
func NewProfiles(ps []Profile) (*Profiles, error) {
	p := &Profiles{
		list:   make([]Profile, len(ps)),
		byPLMN: make(map[string]int),
	}
	for i, prof := range ps {
		if err := prof.compile(); err != nil {
			return nil, err
		}
		for _, plmn := range prof.PLMN {
			if j, dup := p.byPLMN[plmn]; dup {
				return nil, fmt.Errorf("ussd: profile %q: plmn %s already belongs to profile %q", prof.Name, plmn, ps[j].Name)
			}
			p.byPLMN[plmn] = i
		}
		p.list[i] = prof.clone()
	}
	return p, nil
}

// compile validates the profile and fills its compiled patterns.
func (p *Profile) compile() error {
	fail := func(field string, err error) error {
		return fmt.Errorf("ussd: profile %q: %s: %w", p.Name, field, err)
	}
	if p.Name == "" {
		return fail("name", fmt.Errorf("empty"))
	}
	if len(p.PLMN) == 0 {
		return fail("plmn", fmt.Errorf("empty"))
	}
	for i, plmn := range p.PLMN {
		if err := validPLMN(plmn); err != nil {
			return fail(fmt.Sprintf("plmn[%d]", i), err)
		}
	}
	if err := ValidCode(p.BalanceCode); err != nil {
		return fail("balance_code", err)
	}
	if p.OwnNumberCode != "" {
		if err := ValidCode(p.OwnNumberCode); err != nil {
			return fail("own_number_code", err)
		}
	}
	if l := p.Limits; l.PerMinute < 0 || l.PerHour < 0 || l.PerDay < 0 {
		return fail("limits", fmt.Errorf("negative"))
	}
	if p.Commission != "" {
		c, err := ParseAmount(p.Commission)
		if err != nil || c.Kopecks() < 0 || c.Kopecks() >= 100*100 {
			return fail("commission_percent", fmt.Errorf("%q is not a percentage from 0 to below 100 with at most 2 decimals", p.Commission))
		}
	}
	if l := p.PaymentLimits; l.PerPayment.Kopecks() < 0 || l.PerDay.Kopecks() < 0 || l.PerMonth.Kopecks() < 0 || l.PaymentsPerDay < 0 {
		return fail("payment_limits", fmt.Errorf("negative"))
	}
	var err error
	if p.balanceRE, err = compilePatterns(p.BalancePatterns, true); err != nil {
		return fail("balance_patterns", err)
	}
	if p.bySMSRE, err = compilePatterns(p.BySMSPatterns, false); err != nil {
		return fail("balance_by_sms_patterns", err)
	}
	return nil
}

// compilePatterns compiles regular expressions; balance patterns must capture
// "amount" and may only name the groups ParseBalance reads.
func compilePatterns(patterns []string, balance bool) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(patterns))
	for i, pat := range patterns {
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		if balance {
			if re.SubexpIndex("amount") < 0 {
				return nil, fmt.Errorf("[%d]: no named group \"amount\"", i)
			}
			for _, name := range re.SubexpNames() {
				if name != "" && name != "amount" && name != "sign" && name != "minus" {
					return nil, fmt.Errorf("[%d]: unknown group %q, only amount, sign and minus", i, name)
				}
			}
		}
		out = append(out, re)
	}
	return out, nil
}

// threeDigitMNC lists the MCCs whose networks use 3-digit MNCs (ITU-T E.212
// list): North America and the Caribbean, and a few Latin American countries.
// India (404/405) mixes both lengths and is not covered; elsewhere, Russia
// included, MNCs have 2 digits.
var threeDigitMNC = map[string]bool{
	"302": true, "310": true, "311": true, "312": true, "313": true, "314": true,
	"315": true, "316": true, "334": true, "338": true, "342": true, "344": true,
	"346": true, "348": true, "352": true, "354": true, "356": true, "358": true,
	"360": true, "365": true, "366": true, "376": true, "708": true, "722": true,
	"732": true,
}

func mncLength(mcc string) int {
	if threeDigitMNC[mcc] {
		return 3
	}
	return 2
}

func validPLMN(plmn string) error {
	if len(plmn) < 5 || len(plmn) > 6 || leadingDigits(plmn) != plmn {
		return fmt.Errorf("%q is not 5 or 6 digits", plmn)
	}
	if want := 3 + mncLength(plmn[:3]); len(plmn) != want {
		return fmt.Errorf("%q: MCC %s uses %d-digit MNCs", plmn, plmn[:3], want-3)
	}
	return nil
}

// ForIMSI returns the profile of the SIM with this IMSI (AT+CIMI). The home
// network comes from the IMSI, never from AT+COPS, which names the network
// the SIM is roaming on.
func (p *Profiles) ForIMSI(imsi string) (Profile, bool) {
	if len(imsi) < 6 || len(imsi) > 15 || leadingDigits(imsi) != imsi {
		return Profile{}, false
	}
	i, ok := p.byPLMN[imsi[:3+mncLength(imsi[:3])]]
	if !ok {
		return Profile{}, false
	}
	return p.list[i].clone(), true
}

// clone copies the slices so a caller cannot change what Profiles holds.
// Compiled patterns are shared: a *regexp.Regexp is safe for concurrent use.
func (p Profile) clone() Profile {
	p.PLMN = slices.Clone(p.PLMN)
	p.ServiceSenders = slices.Clone(p.ServiceSenders)
	p.BalancePatterns = slices.Clone(p.BalancePatterns)
	p.BySMSPatterns = slices.Clone(p.BySMSPatterns)
	return p
}

// Allowed reports whether code may be sent through the SIM with imsi: it
// must pass ValidCode and be the balance or own-number code of that SIM's
// operator, or one of extra, exactly. Another operator's code means
// something else, or nothing, on this network.
func (p *Profiles) Allowed(imsi, code string, extra []string) bool {
	if ValidCode(code) != nil {
		return false
	}
	if slices.Contains(extra, code) {
		return true
	}
	prof, ok := p.ForIMSI(imsi)
	return ok && (code == prof.BalanceCode || code == prof.OwnNumberCode)
}
