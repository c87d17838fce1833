package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Validate checks the configuration as a whole and returns every problem,
// located at the line that set the value when the configuration came from
// Parse. Parse calls it; call it again after changing fields by hand.
func (c *Config) Validate() error {
	return joinErrors(c.validate())
}

// Override applies the serve flags --listen and --data-dir over the file's
// values; an empty argument leaves the value alone. A relative --data-dir is
// taken from the working directory, as a shell user expects. It returns the
// result of Validate, with problems in the flags named after the flag.
func (c *Config) Override(listen, dataDir string) error {
	if c.origins == nil {
		c.origins = map[string]origin{}
	}
	if listen != "" {
		c.Listen = listen
		c.origins["listen"] = origin{file: "--listen"}
	}
	if dataDir != "" {
		abs, err := filepath.Abs(dataDir)
		if err != nil {
			return &Error{File: "--data-dir", Path: "data_dir", Msg: err.Error(), Err: err}
		}
		c.DataDir = abs
		c.origins["data_dir"] = origin{file: "--data-dir"}
	}
	return c.Validate()
}

type validator struct {
	c    *Config
	errs []*Error
}

func (v *validator) add(path, format string, args ...any) {
	o := v.c.origin(path)
	v.errs = append(v.errs, &Error{File: o.file, Line: o.line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// origin finds where path was set, or else where its nearest enclosing key
// was: a missing modems[0].port is reported at the line of modems[0].
func (c *Config) origin(path string) origin {
	for p := path; p != ""; p = parentPath(p) {
		if o, ok := c.origins[p]; ok {
			return o
		}
	}
	return origin{}
}

// parentPath drops the last element of a key path; quoted map keys may
// themselves hold dots and brackets.
func parentPath(p string) string {
	cut, quoted := 0, false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '.' || c == '['):
			cut = i
		}
	}
	return p[:cut]
}

func (c *Config) validate() []*Error {
	v := &validator{c: c}
	v.ranges(reflect.ValueOf(c).Elem(), "")
	v.top()
	v.modems()
	v.sims()
	v.auth()
	v.send()
	v.ussd()
	v.operators()
	v.webhooks()
	v.confirmations()
	v.crossChecks()
	return v.errs
}

// ranges applies the min and max struct tags of numbers and durations.
func (v *validator) ranges(rv reflect.Value, path string) {
	switch rv.Kind() {
	case reflect.Struct:
		t := rv.Type()
		for _, f := range reflect.VisibleFields(t) {
			if !f.IsExported() || yamlKey(f) == "" {
				continue
			}
			p := join(path, yamlKey(f))
			fv := rv.FieldByIndex(f.Index)
			switch {
			case f.Type == durationType:
				v.durationRange(fv.Interface().(time.Duration), p, f.Tag)
			case fv.Kind() == reflect.Int || fv.Kind() == reflect.Int64:
				v.intRange(fv.Int(), p, f.Tag)
			default:
				v.ranges(fv, p)
			}
		}
	case reflect.Slice:
		for i := range rv.Len() {
			v.ranges(rv.Index(i), path+"["+strconv.Itoa(i)+"]")
		}
	case reflect.Map:
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			v.ranges(rv.MapIndex(k), path+"["+strconv.Quote(k.String())+"]")
		}
	}
}

func tagInt(tag reflect.StructTag, key string) (int64, bool) {
	s, ok := tag.Lookup(key)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("config: bad %s tag %q", key, s))
	}
	return i, true
}

func tagDuration(tag reflect.StructTag, key string) (time.Duration, bool) {
	s, ok := tag.Lookup(key)
	if !ok {
		return 0, false
	}
	d, err := ParseDuration(s)
	if err != nil {
		panic(fmt.Sprintf("config: bad %s tag %q", key, s))
	}
	return d, true
}

// intRange describes the integers a field's tags allow, for messages.
func intRange(tag reflect.StructTag) string {
	lo, hasLo := tagInt(tag, "min")
	hi, hasHi := tagInt(tag, "max")
	switch {
	case hasLo && hasHi:
		return fmt.Sprintf("an integer from %d to %d", lo, hi)
	case hasLo && lo == 1:
		return "a positive integer"
	case hasLo && lo == 0:
		return "an integer, 0 or more"
	case hasLo && lo == -1:
		return "an integer: -1 (unlimited), 0 (default) or more"
	case hasLo:
		return fmt.Sprintf("an integer, %d or more", lo)
	}
	return "an integer"
}

func (v *validator) intRange(i int64, path string, tag reflect.StructTag) {
	lo, hasLo := tagInt(tag, "min")
	hi, hasHi := tagInt(tag, "max")
	if hasLo && i < lo || hasHi && i > hi {
		v.add(path, "must be %s, got %d", intRange(tag), i)
	}
}

func (v *validator) durationRange(d time.Duration, path string, tag reflect.StructTag) {
	lo, hasLo := tagDuration(tag, "min")
	hi, hasHi := tagDuration(tag, "max")
	var want string
	switch {
	case hasLo && lo == 0:
		want = "0 (never) or a positive duration"
	case hasLo:
		want = "a positive duration"
	default:
		want = "a duration"
	}
	if hasHi {
		want += " up to " + formatDuration(hi)
	}
	if hasLo && d < lo || hasHi && d > hi {
		v.add(path, "must be %s, got %s", want, formatDuration(d))
	}
}

func (v *validator) top() {
	c := v.c
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		v.add("listen", "must be host:port such as 127.0.0.1:8780, got %q", c.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		v.add("listen", "port must be a number from 1 to 65535, got %q", port)
	} else if len(c.Auth.Tokens) == 0 && !loopback(host) {
		// An open SMS gateway on a network sends money on anyone's behalf.
		v.add("listen", "%q is reachable from other machines, so auth.tokens must hold at least one token; add one (gsmbridge hash-token) or listen on 127.0.0.1", host)
	}
	switch {
	case c.DataDir == "":
		v.add("data_dir", "must not be empty")
	case !filepath.IsAbs(c.DataDir):
		v.add("data_dir", "must be an absolute path, got %q", c.DataDir)
	}
	if !slices.Contains([]string{"text", "json"}, c.Log.Format) {
		v.add("log.format", "must be text or json, got %q", c.Log.Format)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		v.add("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

var standardBauds = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600}

var ussdDialects = []string{"text", "ucs2", "gsm7hex"}

var pinPattern = regexp.MustCompile(`^[0-9]{4,8}$`)

func (v *validator) modems() {
	ports := map[string]int{}
	names := map[string]int{}
	captures := map[string]int{}
	auto := -1
	for i, m := range v.c.Modems {
		p := fmt.Sprintf("modems[%d]", i)
		if slices.Index(standardBauds, m.Baud) < 0 && m.Baud > 0 {
			v.add(p+".baud", "must be a standard rate (%s), got %d", joinInts(standardBauds), m.Baud)
		}
		if m.USSDDialect != "" && !slices.Contains(ussdDialects, m.USSDDialect) {
			v.add(p+".ussd_dialect", "must be empty, text, ucs2 or gsm7hex, got %q", m.USSDDialect)
		}
		if m.Auto {
			v.autoModem(m, p, &auto, i)
		} else {
			v.portModem(m, p)
		}
		unique(v, ports, filepath.Clean(m.Port), m.Port != "", i, p+".port", "port")
		unique(v, names, m.Name, m.Name != "", i, p+".name", "name")
		unique(v, captures, filepath.Clean(m.Capture), m.Capture != "", i, p+".capture", "capture file")
	}
}

// unique reports a value that an earlier modems entry already has.
func unique(v *validator, seen map[string]int, key string, set bool, i int, path, what string) {
	if !set {
		return
	}
	if j, dup := seen[key]; dup {
		v.add(path, "same %s as modems[%d]", what, j)
		return
	}
	seen[key] = i
}

func (v *validator) portModem(m Modem, p string) {
	switch {
	case m.Port == "":
		v.add(p+".port", "required unless auto: true")
	case !filepath.IsAbs(m.Port):
		v.add(p+".port", "must be an absolute path such as /dev/serial/by-id/..., got %q", m.Port)
	}
	if m.PIN != "" && !pinPattern.MatchString(m.PIN) {
		v.add(p+".pin", "must be 4 to 8 digits (quote it to keep leading zeros)")
	}
	if m.Capture != "" && !filepath.IsAbs(m.Capture) {
		v.add(p+".capture", "must be an absolute path, got %q", m.Capture)
	}
	for _, k := range []string{"sys_root", "dev_root", "scan_interval"} {
		if _, set := v.c.origins[p+"."+k]; set {
			v.add(p+"."+k, "only applies with auto: true")
		}
	}
}

func (v *validator) autoModem(m Modem, p string, auto *int, i int) {
	if *auto >= 0 {
		v.add(p+".auto", "modems[%d] already discovers every modem; keep one auto entry", *auto)
	} else {
		*auto = i
	}
	for k, set := range map[string]bool{"port": m.Port != "", "name": m.Name != "", "pin": m.PIN != "", "capture": m.Capture != ""} {
		if set {
			v.add(p+"."+k, "names one modem, so it cannot go with auto: true; give that modem its own entry")
		}
	}
	if !filepath.IsAbs(m.SysRoot) {
		v.add(p+".sys_root", "must be an absolute path, got %q", m.SysRoot)
	}
	if !filepath.IsAbs(m.DevRoot) {
		v.add(p+".dev_root", "must be an absolute path, got %q", m.DevRoot)
	}
	if m.ScanInterval <= 0 {
		v.add(p+".scan_interval", "must be a positive duration, got %s", formatDuration(m.ScanInterval))
	}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

var (
	digits         = regexp.MustCompile(`^[0-9]+$`)
	phonePattern   = regexp.MustCompile(`^\+[0-9]{8,15}$`)
	decimalPattern = regexp.MustCompile(`^-?[0-9]+(\.[0-9]{1,2})?$`)
)

func (v *validator) sims() {
	iccids := make([]string, 0, len(v.c.SIMs))
	for k := range v.c.SIMs {
		iccids = append(iccids, k)
	}
	slices.Sort(iccids)
	for _, iccid := range iccids {
		s := v.c.SIMs[iccid]
		p := "sims[" + strconv.Quote(iccid) + "]"
		if msg := iccidProblem(iccid); msg != "" {
			v.add(p, "%s", msg)
		}
		v.phone(p+".msisdn", s.MSISDN)
		v.phone(p+".smsc", s.SMSC)
		if s.BalanceLow != "" && !decimalPattern.MatchString(s.BalanceLow) {
			v.add(p+".balance_low", "must be an amount in roubles such as \"50.00\" (point, at most 2 decimals), got %q", s.BalanceLow)
		}
	}
}

// iccidProblem explains what is wrong with an ICCID key, or returns "".
// Modems report ICCIDs in different shapes; the keys are the normalised
// form, so the hints say how to get there.
func iccidProblem(s string) string {
	switch {
	case strings.HasSuffix(strings.ToUpper(s), "F") && digits.MatchString(s[:len(s)-1]):
		return "ICCID must be digits only; drop the trailing F padding"
	case !digits.MatchString(s):
		return "ICCID must be 19 or 20 digits"
	case len(s) < 19 || len(s) > 20:
		return fmt.Sprintf("ICCID must be 19 or 20 digits, got %d", len(s))
	case strings.HasPrefix(s, "98"):
		return "ICCID starts with 98: it looks nibble-swapped (as Huawei ^ICCID and AT+CRSM report it); swap each digit pair so it starts with 89"
	}
	return ""
}

func (v *validator) phone(path, number string) {
	if number != "" && !phonePattern.MatchString(number) {
		v.add(path, "must be + and 8 to 15 digits (international form), got %s", maskNumber(number))
	}
}

// maskNumber keeps enough of a phone number to find it in the file without
// putting the whole number into logs.
func maskNumber(s string) string {
	r := []rune(s)
	if len(r) <= 6 {
		return fmt.Sprintf("%d characters", len(r))
	}
	return strconv.Quote(string(r[:3]) + strings.Repeat("*", len(r)-5) + string(r[len(r)-2:]))
}

func (v *validator) auth() {
	seen := map[string]int{}
	for i, t := range v.c.Auth.Tokens {
		p := fmt.Sprintf("auth.tokens[%d]", i)
		if !isTokenHash(t) {
			if strings.HasPrefix(t, hashPrefix) {
				v.add(p, "must be sha256: and 64 hex digits as printed by gsmbridge hash-token")
			} else {
				// Never echo it: it is a secret in the wrong place.
				v.add(p, "looks like a plain token; store only its hash: run gsmbridge hash-token and put the sha256:... line it prints here")
			}
			continue
		}
		h := strings.ToLower(t)
		if j, dup := seen[h]; dup {
			v.add(p, "same token as auth.tokens[%d]", j)
		}
		seen[h] = i
	}
}

func (v *validator) send() {
	s := v.c.Send
	if s.DefaultTTL > s.MaxTTL {
		v.add(v.c.firstSet("send.default_ttl", "send.max_ttl"), "default_ttl (%s) must not exceed max_ttl (%s)", formatDuration(s.DefaultTTL), formatDuration(s.MaxTTL))
	}
	if s.RetryBackoff > s.RetryBackoffMax {
		v.add(v.c.firstSet("send.retry_backoff", "send.retry_backoff_max"), "retry_backoff (%s) must not exceed retry_backoff_max (%s)", formatDuration(s.RetryBackoff), formatDuration(s.RetryBackoffMax))
	}
}

// firstSet picks, among paths that a check relates, the one the file set,
// so that the message points at the line someone wrote.
func (c *Config) firstSet(paths ...string) string {
	for _, p := range paths {
		if _, ok := c.origins[p]; ok {
			return p
		}
	}
	return paths[0]
}

var ussdCode = regexp.MustCompile(`^[0-9*#]+$`)

func (v *validator) ussd() {
	u := v.c.USSD
	for i, code := range u.Allow {
		if !ussdCode.MatchString(code) {
			v.add(fmt.Sprintf("ussd.allow[%d]", i), "must be a USSD code of 0-9, * and #, such as *100#, got %q", code)
		}
	}
	if u.ReplyTimeout > u.SessionTimeout {
		v.add(v.c.firstSet("ussd.session_timeout", "ussd.reply_timeout"), "session_timeout (%s) must be at least reply_timeout (%s)", formatDuration(u.SessionTimeout), formatDuration(u.ReplyTimeout))
	}
	keys := make([]string, 0, len(u.Dialects))
	for k := range u.Dialects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := "ussd.dialects[" + strconv.Quote(k) + "]"
		if strings.TrimSpace(k) == "" {
			v.add(p, "needs a modem model, optionally followed by its firmware revision")
		}
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
			if code != "" && !ussdCode.MatchString(code) {
				v.add(p+"."+key, "must be a USSD code of 0-9, * and #, such as *100#, got %q", code)
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
	for i, w := range v.c.Webhooks {
		p := fmt.Sprintf("webhooks[%d]", i)
		u, err := url.Parse(w.URL)
		switch {
		case w.URL == "":
			v.add(p+".url", "required")
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
				v.add(fmt.Sprintf("%s.events[%d]", p, j), "must be an event type such as message.received or a prefix such as message.*, got %q", e)
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
