package atcmd

import (
	"fmt"
	"strconv"
	"strings"
)

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
