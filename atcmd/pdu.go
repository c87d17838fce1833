package atcmd

import (
	"strconv"
	"strings"
)

// pduAfter takes the PDU line that follows a +CMGR or +CMGL header out of
// lines (the information lines after that header) and says how many lines
// it used.
//
// Firmware that reports status on its own (Huawei's ^RSSI, ^MODE, ...) may
// send such a line in the middle of the PDU line: "\r\n^RSSI:15\r\n" lands
// between two hex digits. The engine hands the status line to subscribers,
// so the PDU arrives here in pieces on consecutive lines. They are joined
// while they are hex and the whole stays within the length the header
// gives. That length counts TPDU octets only: the SMSC part in front, whose
// own length is the first octet, comes on top, and some firmware leaves it
// out altogether, so the bound is the longer of the two readings. A line
// that is not hex while the PDU is still short (an indication the engine
// does not know) is passed over; the next header ends the PDU.
//
// The first line is the PDU whatever it looks like, as it always was: a
// modem in text mode, or one that garbled it, still yields something the
// caller can judge.
func pduAfter(lines []string, tpduLen int, header string) (pdu string, used int) {
	if len(lines) == 0 || isHeader(lines[0], header) {
		return "", 0
	}
	pdu, used = strings.TrimSpace(lines[0]), 1
	if !isHex(pdu) {
		return pdu, used
	}
	for i := 1; i < len(lines); i++ {
		want := pduHexBound(pdu, tpduLen)
		if len(pdu) >= want {
			break
		}
		next := strings.TrimSpace(lines[i])
		if isHeader(next, header) {
			break
		}
		if !isHex(next) {
			continue
		}
		if len(pdu)+len(next) > want {
			break
		}
		pdu += next
		used = i + 1
	}
	return pdu, used
}

// maxSMSCOctets is the longest SMSC address part (TS 24.011 RP address:
// length octet, type octet and 10 octets of digits, less the length octet
// itself); a first octet above it cannot be an SMSC length.
const maxSMSCOctets = 11

// pduHexBound is the longest a PDU whose TPDU has tpduLen octets can be, in
// hex digits, given its start: with the SMSC part its first octet announces,
// or without one.
func pduHexBound(start string, tpduLen int) int {
	without := 2 * tpduLen
	if len(start) < 2 {
		// The first octet is cut in two: the longest SMSC part is possible.
		return 2 * (1 + maxSMSCOctets + tpduLen)
	}
	n, err := strconv.ParseUint(start[:2], 16, 8)
	if err != nil || n > maxSMSCOctets {
		return without
	}
	return max(without, 2*(1+int(n)+tpduLen))
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
