package config

// Checks of USSD, operator profiles, webhooks and confirmations.

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/gsmbridge/gsmbridge/api"
)

// maxUSSDCode is the ussd package's limit: each character becomes up to
// four hex digits on the AT command line, whose buffer is small on cheap
// modems.
const maxUSSDCode = 64

// ussdCode checks a code the way the ussd package will before sending it,
// without quoting it: a transfer code carries a phone number.
func (v *validator) ussdCode(path, code string) {
	if code == "" || len(code) > maxUSSDCode {
		v.add(path, "must be a USSD code of 1 to %d characters 0-9, * and #, such as *100#", maxUSSDCode)
		return
	}
	if i := strings.IndexFunc(code, func(r rune) bool { return (r < '0' || r > '9') && r != '*' && r != '#' }); i >= 0 {
		v.add(path, "must be a USSD code of 0-9, * and #, such as *100#; character %d is not", i+1)
	}
}

// Dialect returns the dialect configured for a modem, by model and firmware
// revision first and then by model alone. Case and spaces do not count, as
// AT+CGMM and ATI spell one model differently.
func (u *USSD) Dialect(model, firmware string) (string, bool) {
	exact, byModel := squashLower(model+firmware), squashLower(model)
	var found string
	var ok bool
	for k, d := range u.Dialects {
		switch squashLower(k) {
		case exact:
			return d, true
		case byModel:
			found, ok = d, true
		}
	}
	return found, ok
}

func squashLower(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), ""))
}

func (v *validator) ussd() {
	u := v.c.USSD
	for i, code := range u.Allow {
		v.ussdCode(fmt.Sprintf("ussd.allow[%d]", i), code)
	}
	if u.ReplyTimeout > MaxUSSDReplyTimeout {
		v.add("ussd.reply_timeout", "must be at most %s: a balance check through the API waits this long for the network, plus %s of commands and %s to end the session, and must answer within the HTTP server's %s write timeout; got %s",
			formatDuration(MaxUSSDReplyTimeout), formatDuration(USSDCommandTime), formatDuration(USSDEndTime), formatDuration(HTTPWriteTimeout), formatDuration(u.ReplyTimeout))
	}
	if u.ReplyTimeout > u.SessionTimeout {
		v.add(v.c.firstSet("ussd.session_timeout", "ussd.reply_timeout"), "session_timeout (%s) must be at least reply_timeout (%s)", formatDuration(u.SessionTimeout), formatDuration(u.ReplyTimeout))
	}
	keys := make([]string, 0, len(u.Dialects))
	for k := range u.Dialects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	models := map[string]string{}
	for _, k := range keys {
		p := "ussd.dialects[" + strconv.Quote(k) + "]"
		norm := squashLower(k)
		if norm == "" {
			v.add(p, "needs a modem model, optionally followed by its firmware revision")
		} else if other, dup := models[norm]; dup {
			v.add(p, "same model as %q (case and spaces do not count)", other)
		}
		models[norm] = k
		if d := u.Dialects[k]; !slices.Contains(ussdDialects, d) {
			v.add(p, "must be text, ucs2 or gsm7hex, got %q", d)
		}
	}
	b := v.c.Balance
	if b.Interval > 0 && b.Stagger >= b.Interval {
		v.add(v.c.firstSet("balance.stagger", "balance.interval"), "stagger (%s) must be shorter than interval (%s)", formatDuration(b.Stagger), formatDuration(b.Interval))
	}
}

var plmnPattern = regexp.MustCompile(`^[0-9]{5,6}$`)

func (v *validator) operators() {
	owner := map[string]int{}
	for i, o := range v.c.Operators {
		p := fmt.Sprintf("operators[%d]", i)
		if len(o.PLMN) == 0 {
			v.add(p+".plmn", "required: the MCC+MNC this profile is for, such as \"25001\"")
		}
		for j, plmn := range o.PLMN {
			pp := fmt.Sprintf("%s.plmn[%d]", p, j)
			if !plmnPattern.MatchString(plmn) {
				v.add(pp, "must be MCC+MNC, 5 or 6 digits, got %q", plmn)
				continue
			}
			if k, dup := owner[plmn]; dup {
				v.add(pp, "%s is already in operators[%d]", plmn, k)
			}
			owner[plmn] = i
		}
		for key, code := range map[string]string{"balance_code": o.BalanceCode, "own_number_code": o.OwnNumberCode} {
			if code != "" {
				v.ussdCode(p+"."+key, code)
			}
		}
		v.patterns(p+".balance_patterns", o.BalancePatterns, true)
		v.patterns(p+".balance_by_sms_patterns", o.BalanceBySMSPatterns, false)
		for j, s := range o.ServiceSenders {
			if strings.TrimSpace(s) == "" {
				v.add(fmt.Sprintf("%s.service_senders[%d]", p, j), "must not be empty")
			}
		}
		if o.CommissionPercent != "" && !decimalNonNegative(o.CommissionPercent) {
			v.add(p+".commission_percent", "must be a decimal such as \"1.95\", got %q", o.CommissionPercent)
		}
		for key, amount := range map[string]string{"per_payment": o.PaymentLimits.PerPayment, "per_day": o.PaymentLimits.PerDay, "per_month": o.PaymentLimits.PerMonth} {
			if amount != "" && !decimalNonNegative(amount) {
				v.add(p+".payment_limits."+key, "must be an amount in roubles such as \"15000.00\", got %q", amount)
			}
		}
	}
}

func decimalNonNegative(s string) bool {
	return decimalPattern.MatchString(s) && !strings.HasPrefix(s, "-")
}

func (v *validator) patterns(path string, ps []string, needAmount bool) {
	for i, s := range ps {
		p := fmt.Sprintf("%s[%d]", path, i)
		re, err := regexp.Compile(s)
		if err != nil {
			v.add(p, "not a valid regular expression: %v", err)
			continue
		}
		if needAmount && re.SubexpIndex("amount") < 0 {
			v.add(p, "needs a named group (?P<amount>...) around the amount")
		}
	}
}

var eventPattern = regexp.MustCompile(`^([a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?|\*)$`)

func (v *validator) webhooks() {
	seen := map[string]int{}
	for i, w := range v.c.Webhooks {
		p := fmt.Sprintf("webhooks[%d]", i)
		u, err := url.Parse(w.URL)
		j, dup := seen[w.URL]
		if w.URL != "" && !dup {
			seen[w.URL] = i
		}
		switch {
		case w.URL == "":
			v.add(p+".url", "required")
		case dup:
			// An endpoint's delivery cursor is keyed by its URL: two
			// entries would advance one cursor and skip each other's events.
			v.add(p+".url", "same as webhooks[%d]; put both event lists in one entry", j)
		case err != nil || !u.IsAbs() || u.Host == "":
			v.add(p+".url", "must be an absolute http:// or https:// URL, got %q", redactURL(w.URL))
		case u.Scheme != "http" && u.Scheme != "https":
			v.add(p+".url", "scheme must be http or https, got %q", u.Scheme)
		}
		if len(w.Secrets) == 0 {
			v.add(p+".secrets", "needs at least one secret of 16 or more characters to sign deliveries")
		}
		for j, s := range w.Secrets {
			if n := len([]rune(s)); n < 16 {
				v.add(fmt.Sprintf("%s.secrets[%d]", p, j), "must be at least 16 characters, has %d", n)
			}
		}
		for j, e := range w.Events {
			if !eventPattern.MatchString(e) {
				v.add(fmt.Sprintf("%s.events[%d]", p, j), "must be an event type such as sms.received or a prefix such as message.*, got %q", e)
			} else if err := api.CheckEventType(e); err != nil {
				v.add(fmt.Sprintf("%s.events[%d]", p, j), "%v", err)
			}
		}
	}
	d := v.c.WebhookDefaults
	if d.RetryInitial > d.RetryMax {
		v.add(v.c.firstSet("webhook_defaults.retry_initial", "webhook_defaults.retry_max"), "retry_initial (%s) must not exceed retry_max (%s)", formatDuration(d.RetryInitial), formatDuration(d.RetryMax))
	}
}

// redactURL drops the parts of a URL that may hold credentials.
func redactURL(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			s = s[:j+3] + "…@" + s[i+1:]
		}
	}
	return s
}

// The longest values a confirmation must still fit in one SMS with.
const (
	longestTxn    = "123456789012"
	longestAmount = "999 999,99 руб."
	// ucs2SMSChars is what one UCS2 SMS holds; the amount's Cyrillic forces
	// UCS2 for every confirmation.
	ucs2SMSChars = 70
)

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// smsLength is the length of the template filled with the longest values,
// in UTF-16 code units as UCS2 counts them.
func smsLength(template string) int {
	filled := strings.NewReplacer("{txn}", longestTxn, "{amount}", longestAmount).Replace(template)
	return len(utf16.Encode([]rune(filled)))
}

func (v *validator) confirmations() {
	c := v.c.Confirmations
	v.template("confirmations.template", c.Template, []string{"{txn}", "{amount}"})
	v.template("confirmations.cancel_notice_text", c.CancelNoticeText, []string{"{txn}"})
	if len(c.CancelWords) == 0 {
		v.add("confirmations.cancel_words", "needs at least one word that cancels, such as \"0\"")
	}
	seen := map[string]int{}
	for i, w := range c.CancelWords {
		p := fmt.Sprintf("confirmations.cancel_words[%d]", i)
		k := strings.ToLower(strings.TrimSpace(w))
		if k == "" {
			v.add(p, "must not be empty")
			continue
		}
		if j, dup := seen[k]; dup {
			v.add(p, "same as cancel_words[%d]", j)
		}
		seen[k] = i
	}
	if c.DefaultTTL > v.c.Send.MaxTTL {
		v.add(v.c.firstSet("confirmations.default_ttl", "send.max_ttl"), "default_ttl (%s) must not exceed send.max_ttl (%s)", formatDuration(c.DefaultTTL), formatDuration(v.c.Send.MaxTTL))
	}
	if c.SIMLostAfter != 0 && c.SIMLostAfter <= c.ExpiryGrace {
		// Otherwise a confirmation on a SIM that is plugged in would fail
		// before the grace let its late reply be read.
		v.add("confirmations.sim_lost_after", "must be 0 or longer than expiry_grace (%s)", c.ExpiryGrace)
	}
}

func (v *validator) template(path, t string, required []string) {
	for _, r := range required {
		if !strings.Contains(t, r) {
			v.add(path, "must contain %s", r)
		}
	}
	for _, ph := range placeholder.FindAllString(t, -1) {
		if !slices.Contains(required, ph) {
			v.add(path, "unknown placeholder %s; only %s are replaced", ph, strings.Join(required, " and "))
		}
	}
	if n := smsLength(t); n > ucs2SMSChars {
		v.add(path, "is %d characters with a 12-character {txn} and the amount %q; one SMS holds %d, and a split confirmation can arrive half", n, longestAmount, ucs2SMSChars)
	}
}

func (v *validator) crossChecks() {
	h := v.c.LimitsHTTP
	if h.MaxLongPolls > h.MaxConnections {
		v.add(v.c.firstSet("limits_http.max_long_polls", "limits_http.max_connections"), "max_long_polls (%d) must not exceed max_connections (%d)", h.MaxLongPolls, h.MaxConnections)
	}
}
