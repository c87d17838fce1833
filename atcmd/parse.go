package atcmd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformed is returned by the parsers when a line is not the answer they
// parse or lacks a field they cannot do without. Errors name the prefix but
// never quote the line, which may hold numbers or message text.
var ErrMalformed = errors.New("atcmd: malformed answer")

// field is one comma-separated value of an answer line.
type field struct {
	val    string // without surrounding quotes and spaces
	quoted bool
}

// splitFields splits s on commas outside quotes and parentheses. Firmware
// differs in spacing and quoting, so both are taken off each value.
func splitFields(s string) []field {
	var out []field
	inQuote, depth, start := false, 0, 0
	cut := func(end int) {
		raw := strings.TrimSpace(s[start:end])
		f := field{val: raw}
		if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
			f = field{val: raw[1 : len(raw)-1], quoted: true}
		} else if strings.HasPrefix(raw, `"`) {
			f = field{val: strings.Trim(raw, `"`), quoted: true}
		}
		out = append(out, f)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == ',' && depth == 0:
			cut(i)
			start = i + 1
		}
	}
	cut(len(s))
	return out
}

func (f field) int() (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(f.val))
	return n, err == nil
}

// intOr returns the field's number, or def when the field is absent or empty.
func intOr(fs []field, i, def int) int {
	if i < len(fs) {
		if n, ok := fs[i].int(); ok {
			return n
		}
	}
	return def
}

// body returns what follows "<prefix>:" in line, tolerant of case and spacing.
func body(line, prefix string) (string, error) {
	line = strings.TrimSpace(line)
	name, rest, ok := strings.Cut(line, ":")
	if !ok || !strings.EqualFold(strings.TrimSpace(name), prefix) {
		return "", fmt.Errorf("%w: not a %s line", ErrMalformed, prefix)
	}
	return strings.TrimSpace(rest), nil
}

func malformed(prefix, what string) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, prefix, what)
}

// Signal is an answer to AT+CSQ.
type Signal struct {
	RSSI  int  // 0..31, 99 unknown
	BER   int  // 0..7, 99 unknown
	Known bool // RSSI is 0..31
	DBm   int  // -113..-51 when Known
	Bars  int  // 0..4 for display
}

// ParseCSQ parses "+CSQ: <rssi>,<ber>".
func ParseCSQ(line string) (Signal, error) {
	b, err := body(line, "+CSQ")
	if err != nil {
		return Signal{}, err
	}
	fs := splitFields(b)
	rssi, ok := fs[0].int()
	if !ok || rssi < 0 || (rssi > 31 && rssi != 99) {
		return Signal{}, malformed("+CSQ", "rssi")
	}
	s := Signal{RSSI: rssi, BER: intOr(fs, 1, 99)}
	if rssi <= 31 {
		s.Known = true
		s.DBm = -113 + 2*rssi
		switch {
		case rssi >= 20:
			s.Bars = 4
		case rssi >= 15:
			s.Bars = 3
		case rssi >= 10:
			s.Bars = 2
		case rssi >= 2:
			s.Bars = 1
		}
	}
	return s, nil
}

// Registration is a +CREG, +CGREG, +CEREG or +C5GREG answer or indication.
type Registration struct {
	Name        string // "+CREG", "+CGREG", ...
	Mode        int    // <n> of the answer form; -1 in the unsolicited form
	Stat        int    // 0 not registered, 1 home, 2 searching, 3 denied, 4 unknown, 5 roaming, ...
	HasLocation bool
	LAC         uint32 // LAC, or TAC for EPS
	CI          uint32
	AcT         int // access technology, -1 when absent
}

// Registered reports registration on the home or a roaming network,
// including the "SMS only" and "CSFB not preferred" states.
func (r Registration) Registered() bool {
	switch r.Stat {
	case 1, 5, 6, 7, 9, 10:
		return true
	}
	return false
}

// Roaming reports registration on a visited network.
func (r Registration) Roaming() bool { return r.Stat == 5 || r.Stat == 7 || r.Stat == 10 }

// ParseRegistration parses both the answer to AT+CREG? ("n,stat[,lac,ci[,act]]")
// and the indication ("stat[,lac,ci[,act]]"), for CREG, CGREG, CEREG and
// C5GREG. The forms are told apart by the second field: a location is quoted
// or hex, a status is a small decimal number; three fields can only be the
// indication with a location.
func ParseRegistration(line string) (Registration, error) {
	name := strings.ToUpper(strings.TrimSpace(lineName(strings.TrimSpace(line))))
	switch name {
	case "+CREG", "+CGREG", "+CEREG", "+C5GREG":
	default:
		return Registration{}, fmt.Errorf("%w: not a registration line", ErrMalformed)
	}
	b, err := body(line, name)
	if err != nil {
		return Registration{}, err
	}
	fs := splitFields(b)
	r := Registration{Name: name, Mode: -1, AcT: -1}
	unsolicited := len(fs) == 1 || len(fs) == 3 || fs[1].quoted || !isSmallStat(fs[1].val)
	if !unsolicited {
		mode, ok := fs[0].int()
		if !ok {
			return Registration{}, malformed(name, "mode")
		}
		r.Mode = mode
		fs = fs[1:]
	}
	stat, ok := fs[0].int()
	if !ok || stat < 0 {
		return Registration{}, malformed(name, "stat")
	}
	r.Stat = stat
	if len(fs) >= 3 {
		lac, errL := strconv.ParseUint(strings.TrimSpace(fs[1].val), 16, 32)
		ci, errC := strconv.ParseUint(strings.TrimSpace(fs[2].val), 16, 32)
		if errL == nil && errC == nil {
			r.HasLocation, r.LAC, r.CI = true, uint32(lac), uint32(ci)
		}
		r.AcT = intOr(fs, 3, -1)
	}
	return r, nil
}

// isSmallStat reports whether v can be a registration status rather than an
// unquoted hex location ("0011" has a leading zero no status has).
func isSmallStat(v string) bool {
	v = strings.TrimSpace(v)
	if len(v) > 2 || (len(v) == 2 && v[0] == '0') {
		return false
	}
	n, err := strconv.Atoi(v)
	return err == nil && n >= 0 && n <= 11
}

// Operator is an answer to AT+COPS?.
type Operator struct {
	Mode   int    // 0 automatic, 1 manual, 2 deregistered, ...
	Format int    // 0 long name, 1 short name, 2 numeric; -1 when absent
	Name   string // "MTS RUS" or "25001"; "" when not registered
	AcT    int    // -1 when absent
}

// ParseCOPS parses "+COPS: <mode>[,<format>,<oper>[,<act>]]".
func ParseCOPS(line string) (Operator, error) {
	b, err := body(line, "+COPS")
	if err != nil {
		return Operator{}, err
	}
	fs := splitFields(b)
	mode, ok := fs[0].int()
	if !ok {
		return Operator{}, malformed("+COPS", "mode")
	}
	op := Operator{Mode: mode, Format: intOr(fs, 1, -1), AcT: intOr(fs, 3, -1)}
	if len(fs) > 2 {
		op.Name = fs[2].val
	}
	return op, nil
}

// ParseCPIN parses "+CPIN: <code>" into the upper-case code: "READY",
// "SIM PIN", "SIM PUK", "PH-SIM PIN", "NOT READY", ...
func ParseCPIN(line string) (string, error) {
	b, err := body(line, "+CPIN")
	if err != nil {
		return "", err
	}
	code := strings.ToUpper(strings.Join(strings.Fields(strings.Trim(b, `"`)), " "))
	if code == "" {
		return "", malformed("+CPIN", "empty code")
	}
	return code, nil
}
