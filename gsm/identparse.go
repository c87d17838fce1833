package gsm

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The parsers below are pure functions of the information lines a command
// returned (no echo, no final result), tolerant of the ways firmware
// decorates them: a "+CMD:" or "Label:" prefix with or without a space,
// quotes, leading blanks.

// stripPrefix removes one leading "+XXX:", "^XXX:", "!XXX:" or
// "Word Word:" label, then blanks and quotes.
func stripPrefix(line string) string {
	return strings.TrimSpace(strings.Trim(stripLabel(line), `"`))
}

// stripLabel removes the label only, for answers with several parameters.
func stripLabel(line string) string {
	s := strings.TrimSpace(line)
	if i := strings.IndexByte(s, ':'); i > 0 && isLabel(s[:i]) {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

func isLabel(s string) bool {
	if s[0] == '+' || s[0] == '^' || s[0] == '!' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == ' ' || r == '_') {
			return false
		}
	}
	return true
}

// parseInfo returns the first non-empty line of an AT+CGMI/CGMM/CGMR answer
// without its label: "+CGMI: Quectel" and " huawei" give "Quectel", "huawei".
func parseInfo(lines []string) string {
	for _, l := range lines {
		if s := stripPrefix(l); s != "" {
			return s
		}
	}
	return ""
}

// parseIMEI reads an AT+CGSN answer ("8635...", "+CGSN: \"8635...\"",
// "IMEI: 8635..."). raw is the answer without its label, kept even when it
// is not a valid IMEI (clone sticks answer junk); imei is set only if valid.
func parseIMEI(lines []string) (raw, imei string) {
	raw = parseInfo(lines)
	candidate := strings.ReplaceAll(raw, " ", "")
	if ValidIMEI(candidate) {
		return raw, candidate
	}
	return raw, ""
}

// ValidIMEI reports whether s is a plausible IMEI: 15 digits with a correct
// Luhn check digit, and not one of the junk values clone sticks and blanked
// modules report (all one digit, a zero TAC, a counting run such as
// 123456789012347).
func ValidIMEI(s string) bool {
	if len(s) != 15 || !allDigits(s) || !luhnValid(s) {
		return false
	}
	if s[:8] == "00000000" || strings.Count(s, s[:1]) == len(s) {
		return false
	}
	return !countingRun(s[:14])
}

// countingRun reports digits that go up or down by one each step (mod 10).
func countingRun(s string) bool {
	up, down := true, true
	for i := 1; i < len(s); i++ {
		d := (int(s[i]) - int(s[i-1]) + 10) % 10
		up = up && d == 1
		down = down && d == 9
	}
	return up || down
}

// ValidIMSI reports whether s is an IMSI: 14 or 15 digits (E.212 allows at
// most 15; some networks issue 14) starting with a real MCC (2xx-7xx) or the
// test network 001.
func ValidIMSI(s string) bool {
	if len(s) < 14 || len(s) > 15 || !allDigits(s) {
		return false
	}
	return (s[0] >= '2' && s[0] <= '7') || strings.HasPrefix(s, "001")
}

func parseIMSI(lines []string) string {
	s := strings.ReplaceAll(parseInfo(lines), " ", "")
	if ValidIMSI(s) {
		return s
	}
	return ""
}

var errNotICCID = errors.New("not an ICCID")

// NormalizeICCID turns an ICCID as modems report it into its 18-20 decimal
// digits. Every telecom ICCID starts with 89 (E.118), so one that starts
// with 98 is in the SIM's nibble-swapped file order (Huawei AT^ICCID?,
// AT+CRSM) and is swapped back; the F that pads 19-digit ICCIDs to whole
// bytes is dropped. The Luhn check digit is not enforced: many 20-digit
// ICCIDs in service do not satisfy it, and refusing a real SIM's number
// would be worse than keeping an unchecked one.
func NormalizeICCID(raw string) (string, error) {
	s := strings.ToUpper(strings.TrimSpace(strings.Trim(strings.TrimSpace(raw), `"`)))
	if strings.HasPrefix(s, "98") {
		if len(s)%2 != 0 {
			return "", fmt.Errorf("%w: %q: swapped form has an odd length", errNotICCID, raw)
		}
		b := []byte(s)
		for i := 0; i+1 < len(b); i += 2 {
			b[i], b[i+1] = b[i+1], b[i]
		}
		s = string(b)
	}
	s = strings.TrimRight(s, "F")
	if !strings.HasPrefix(s, "89") || len(s) < 18 || len(s) > 20 || !allDigits(s) {
		return "", fmt.Errorf("%w: %q", errNotICCID, raw)
	}
	return s, nil
}

// parseICCID reads the answer of any ICCID command: "^ICCID: 98...",
// "+QCCID: 8970...", "+CCID: \"89...\"", a bare number, or
// "+CRSM: 144,0,\"98...\"" (status words checked).
func parseICCID(lines []string) (string, error) {
	for _, l := range lines {
		s := strings.TrimSpace(l)
		if s == "" {
			continue
		}
		if strings.HasPrefix(strings.ToUpper(s), "+CRSM") {
			return parseCRSM(s)
		}
		return NormalizeICCID(stripPrefix(s))
	}
	return "", fmt.Errorf("%w: empty answer", errNotICCID)
}

// parseCRSM reads "+CRSM: <sw1>,<sw2>[,<response>]". 144 (0x90) is success;
// 145 (0x91) is success with a proactive command pending.
func parseCRSM(line string) (string, error) {
	fields := splitFields(stripLabel(line))
	if len(fields) < 3 {
		return "", fmt.Errorf("%w: %q: no data", errNotICCID, line)
	}
	sw1, err := strconv.Atoi(fields[0])
	if err != nil || (sw1 != 144 && sw1 != 145) {
		return "", fmt.Errorf("%w: SIM status %s,%s", errNotICCID, fields[0], fields[1])
	}
	return NormalizeICCID(fields[2])
}

// splitFields splits a response's parameters at commas outside quotes and
// unquotes them.
func splitFields(s string) []string {
	var (
		fields []string
		cur    strings.Builder
		quoted bool
	)
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			fields = append(fields, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(fields, strings.TrimSpace(cur.String()))
}

// parseCNUM returns the first subscriber number of an AT+CNUM answer
// (+CNUM: ["<alpha>"],"<number>",<type>), normalised; "" when the SIM has
// none, which is common.
func parseCNUM(lines []string) string {
	for _, l := range lines {
		fields := splitFields(stripLabel(l))
		if len(fields) < 2 {
			continue
		}
		typ := ""
		if len(fields) > 2 {
			typ = fields[2]
		}
		if n := normalizeNumber(fields[1], typ); n != "" {
			return n
		}
	}
	return ""
}

// parseCSCA reads +CSCA: "<sca>",<tosca>.
func parseCSCA(lines []string) string {
	for _, l := range lines {
		fields := splitFields(stripLabel(l))
		typ := ""
		if len(fields) > 1 {
			typ = fields[1]
		}
		if n := normalizeNumber(fields[0], typ); n != "" {
			return n
		}
	}
	return ""
}

// normalizeNumber decodes a number sent in the UCS2 or HEX character set
// and writes an international one (type 145, or a leading +) as "+digits".
// A national or unknown-type number is returned as the modem gave it: its
// country code cannot be known here. Anything that is not a dial string
// gives "".
func normalizeNumber(s, typ string) string {
	s = decodeCharset(strings.TrimSpace(s))
	international := strings.HasPrefix(s, "+") || strings.TrimSpace(typ) == "145"
	s = strings.TrimPrefix(s, "+")
	if s == "" || strings.Trim(s, "0123456789*#") != "" {
		return ""
	}
	if international {
		return "+" + s
	}
	return s
}

// decodeCharset undoes AT+CSCS="UCS2" (4 hex digits per character) or
// "HEX" (2 per character) when s is so encoded and decodes to a dial string;
// otherwise s is returned unchanged.
func decodeCharset(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) == 0 {
		return s
	}
	if len(b)%2 == 0 {
		var ucs []byte
		for i := 0; i < len(b); i += 2 {
			if b[i] != 0 {
				ucs = nil
				break
			}
			ucs = append(ucs, b[i+1])
		}
		if ucs != nil && isDialString(string(ucs)) {
			return string(ucs)
		}
	}
	if isDialString(string(b)) {
		return string(b)
	}
	return s
}

func isDialString(s string) bool {
	return s != "" && strings.Trim(s, "+0123456789*#") == ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// luhnValid checks the Luhn check digit at the end of a digit string.
func luhnValid(s string) bool {
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
