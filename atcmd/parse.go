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

// Storage is one message memory in an AT+CPMS answer.
type Storage struct {
	Mem   string // "SM", "ME", "MT", ...; "" when the answer gives numbers only
	Used  int
	Total int
}

// ParseCPMS parses the answer to AT+CPMS? ("SM",3,20,"SM",3,20,"SM",3,20)
// and to the set form AT+CPMS="ME","ME","ME" (3,20,3,20,3,20).
func ParseCPMS(line string) ([]Storage, error) {
	b, err := body(line, "+CPMS")
	if err != nil {
		return nil, err
	}
	var out []Storage
	var nums []int
	mem := ""
	for _, f := range splitFields(b) {
		n, ok := f.int()
		if !ok || f.quoted {
			mem, nums = f.val, nil
			continue
		}
		nums = append(nums, n)
		if len(nums) == 2 {
			out = append(out, Storage{Mem: mem, Used: nums[0], Total: nums[1]})
			mem, nums = "", nil
		}
	}
	if len(out) == 0 {
		return nil, malformed("+CPMS", "no used/total pair")
	}
	return out, nil
}

// StoredMessage is one message listed by AT+CMGL or read by AT+CMGR in PDU mode.
type StoredMessage struct {
	Index  int // storage index; -1 for +CMGR
	Stat   int // 0 received unread, 1 received read, 2 stored unsent, 3 stored sent
	Alpha  string
	Length int    // TPDU length in octets
	PDU    string // hex; "" when the firmware sent no PDU line
}

var textStat = map[string]int{"REC UNREAD": 0, "REC READ": 1, "STO UNSENT": 2, "STO SENT": 3}

// ParseCMGL parses the information lines of AT+CMGL: each
// "+CMGL: <idx>,<stat>,[<alpha>],<len>" header followed by its PDU line.
// Headers without the alpha field are accepted; lines that belong to no
// header are ignored; a PDU line cut by an unsolicited line is joined again
// (see pduAfter).
func ParseCMGL(lines []string) ([]StoredMessage, error) {
	var out []StoredMessage
	for i := 0; i < len(lines); i++ {
		b, err := body(lines[i], "+CMGL")
		if err != nil {
			continue
		}
		fs := splitFields(b)
		idx, ok := fs[0].int()
		if !ok || len(fs) < 3 {
			return nil, malformed("+CMGL", "header")
		}
		m, err := storedHeader("+CMGL", fs[1:])
		if err != nil {
			return nil, err
		}
		m.Index = idx
		var used int
		m.PDU, used = pduAfter(lines[i+1:], m.Length, "+CMGL")
		i += used
		out = append(out, m)
	}
	return out, nil
}

// ParseCMGR parses the information lines of AT+CMGR: "+CMGR: <stat>,[<alpha>],<len>"
// and the PDU line, joined again when an unsolicited line cut it. found is
// false for an empty slot answered with a bare OK (Huawei); others answer
// +CMS ERROR: 321, which Exec already returns.
func ParseCMGR(lines []string) (m StoredMessage, found bool, err error) {
	for i, l := range lines {
		b, err := body(l, "+CMGR")
		if err != nil {
			continue
		}
		fs := splitFields(b)
		if len(fs) < 2 {
			return StoredMessage{}, false, malformed("+CMGR", "header")
		}
		m, err := storedHeader("+CMGR", fs)
		if err != nil {
			return StoredMessage{}, false, err
		}
		m.Index = -1
		m.PDU, _ = pduAfter(lines[i+1:], m.Length, "+CMGR")
		return m, true, nil
	}
	return StoredMessage{}, false, nil
}

// storedHeader parses "<stat>,[<alpha>],<len>" with the alpha optional.
func storedHeader(prefix string, fs []field) (StoredMessage, error) {
	stat, ok := fs[0].int()
	if !ok {
		s, known := textStat[strings.ToUpper(fs[0].val)]
		if !known {
			return StoredMessage{}, malformed(prefix, "stat")
		}
		stat = s
	}
	last := fs[len(fs)-1]
	n, ok := last.int()
	if !ok || n < 0 {
		return StoredMessage{}, malformed(prefix, "length")
	}
	m := StoredMessage{Stat: stat, Length: n}
	if len(fs) >= 3 {
		m.Alpha = fs[1].val
	}
	return m, nil
}

func isHeader(line, prefix string) bool {
	_, err := body(line, prefix)
	return err == nil
}

// USSD is a +CUSD indication.
type USSD struct {
	Mode    int // 0 done, 1 reply wanted, 2 terminated by network, 3 other client, 4 not supported, 5 timeout
	HasText bool
	Text    string // raw, as sent: text, GSM 7-bit packed hex or UCS2 hex
	DCS     int    // -1 when absent
}

// ParseCUSD parses "+CUSD: <m>[,"<str>"[,<dcs>]]". The string is taken from
// the first to the last quote, so commas and quotes inside it survive.
func ParseCUSD(line string) (USSD, error) {
	b, err := body(line, "+CUSD")
	if err != nil {
		return USSD{}, err
	}
	modeStr, rest, _ := strings.Cut(b, ",")
	mode, err := strconv.Atoi(strings.TrimSpace(modeStr))
	if err != nil {
		return USSD{}, malformed("+CUSD", "mode")
	}
	u := USSD{Mode: mode, DCS: -1}
	first, last := strings.IndexByte(rest, '"'), strings.LastIndexByte(rest, '"')
	tail := ""
	switch {
	case first >= 0 && last > first:
		u.HasText, u.Text = true, rest[first+1:last]
		tail = rest[last+1:]
	case strings.TrimSpace(rest) != "":
		// Unquoted string (some firmware): the last field is the DCS when
		// numeric, everything before it is the string.
		text, dcs, found := cutLast(rest, ",")
		if _, err := strconv.Atoi(strings.TrimSpace(dcs)); !found || err != nil {
			text, dcs = rest, ""
		}
		u.HasText, u.Text, tail = true, strings.TrimSpace(text), ","+dcs
	}
	if d, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(tail), ","))); err == nil {
		u.DCS = d
	}
	return u, nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// StorageRef points at a stored message: +CMTI and +CDSI.
type StorageRef struct {
	Mem   string
	Index int
}

// ParseCMTI parses `+CMTI: "SM",3`.
func ParseCMTI(line string) (StorageRef, error) { return parseRef(line, "+CMTI") }

// ParseCDSI parses `+CDSI: "SR",2`.
func ParseCDSI(line string) (StorageRef, error) { return parseRef(line, "+CDSI") }

func parseRef(line, prefix string) (StorageRef, error) {
	b, err := body(line, prefix)
	if err != nil {
		return StorageRef{}, err
	}
	fs := splitFields(b)
	if len(fs) < 2 {
		return StorageRef{}, malformed(prefix, "fields")
	}
	idx, ok := fs[1].int()
	if !ok || idx < 0 {
		return StorageRef{}, malformed(prefix, "index")
	}
	return StorageRef{Mem: strings.ToUpper(fs[0].val), Index: idx}, nil
}

// ParseCDS parses "+CDS: <len>", the header of a status report whose PDU is
// on the next line.
func ParseCDS(line string) (int, error) { return parseLastInt(line, "+CDS") }

// ParseCMGS parses "+CMGS: <mr>[,<scts>]" into the message reference.
func ParseCMGS(line string) (int, error) {
	b, err := body(line, "+CMGS")
	if err != nil {
		return 0, err
	}
	mr, ok := splitFields(b)[0].int()
	if !ok || mr < 0 || mr > 255 {
		return 0, malformed("+CMGS", "reference")
	}
	return mr, nil
}

// CMTHeader is the first line of a directly delivered message.
type CMTHeader struct {
	Alpha  string
	Length int
}

// ParseCMT parses "+CMT: [<alpha>],<len>" (`+CMT: ,24`, `+CMT: "",24`, `+CMT: 24`).
func ParseCMT(line string) (CMTHeader, error) {
	n, err := parseLastInt(line, "+CMT")
	if err != nil {
		return CMTHeader{}, err
	}
	b, _ := body(line, "+CMT")
	h := CMTHeader{Length: n}
	if fs := splitFields(b); len(fs) > 1 {
		h.Alpha = fs[0].val
	}
	return h, nil
}

func parseLastInt(line, prefix string) (int, error) {
	b, err := body(line, prefix)
	if err != nil {
		return 0, err
	}
	fs := splitFields(b)
	n, ok := fs[len(fs)-1].int()
	if !ok || n < 0 {
		return 0, malformed(prefix, "length")
	}
	return n, nil
}

// ParseCNMIRange parses the answer to AT+CNMI=? ("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)")
// into the allowed values of each parameter.
func ParseCNMIRange(line string) ([][]int, error) {
	b, err := body(line, "+CNMI")
	if err != nil {
		return nil, err
	}
	var out [][]int
	for _, f := range splitFields(b) {
		vals, err := parseIntSet(strings.Trim(f.val, "() "))
		if err != nil {
			return nil, malformed("+CNMI", "range")
		}
		out = append(out, vals)
	}
	return out, nil
}

// parseIntSet parses "0-2", "0,2", "0,1-3" or "" (no values allowed).
func parseIntSet(s string) ([]int, error) {
	var out []int
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
				return nil, err
			}
		}
		// Ranges in these answers are a handful of values; a huge one is garbage.
		if b < a || b-a > 255 {
			return nil, fmt.Errorf("range %d-%d", a, b)
		}
		for v := a; v <= b; v++ {
			out = append(out, v)
		}
	}
	return out, nil
}

// ParseCPMSRange parses the answer to AT+CPMS=?
// (`+CPMS: ("SM","ME","MT"),("SM","ME","MT"),("SM","ME")`) into the memories
// allowed for each parameter.
func ParseCPMSRange(line string) ([][]string, error) {
	b, err := body(line, "+CPMS")
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, f := range splitFields(b) {
		inner := strings.TrimSpace(f.val)
		if !strings.HasPrefix(inner, "(") {
			return nil, malformed("+CPMS", "list")
		}
		var mems []string
		for _, m := range splitFields(strings.Trim(inner, "()")) {
			if m.val != "" {
				mems = append(mems, strings.ToUpper(m.val))
			}
		}
		out = append(out, mems)
	}
	return out, nil
}
