package ussd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Status is the <m> field of a +CUSD reply (3GPP TS 27.007 §7.15).
type Status int

const (
	StatusDone           Status = 0
	StatusActionRequired Status = 1
	StatusTerminated     Status = 2
	StatusOtherClient    Status = 3
	StatusNotSupported   Status = 4
	StatusTimeout        Status = 5
)

var statusNames = [...]struct{ name, meaning string }{
	StatusDone:           {"done", "no further user action required"},
	StatusActionRequired: {"action-required", "further user action required (menu)"},
	StatusTerminated:     {"terminated", "USSD terminated by network"},
	StatusOtherClient:    {"other-client", "other local client has responded"},
	StatusNotSupported:   {"not-supported", "operation not supported"},
	StatusTimeout:        {"timeout", "network time out"},
}

func (s Status) valid() bool { return s >= 0 && int(s) < len(statusNames) }

// String is a short stable name, fit for logs and metric labels.
func (s Status) String() string {
	if !s.valid() {
		return "status(" + strconv.Itoa(int(s)) + ")"
	}
	return statusNames[s].name
}

// Meaning is the 27.007 description of the status.
func (s Status) Meaning() string {
	if !s.valid() {
		return "unknown status " + strconv.Itoa(int(s))
	}
	return statusNames[s].meaning
}

// Reply is one parsed +CUSD line.
type Reply struct {
	Status Status
	// Text is the decoded reply, "" when the modem sent none.
	Text string
	// Raw is the string exactly as the modem sent it between the quotes.
	Raw string
	// DCS is the data coding scheme, -1 when the modem left it out.
	DCS int
	// Decoding names the interpretation that produced Text, one of the
	// Decoding* constants, "" when there is no text.
	Decoding string
}

// Values of Reply.Decoding.
const (
	// DecodingGSM7 is hex with one GSM 7-bit character per octet (AT+CSCS="HEX").
	DecodingGSM7 = "gsm7"
	// DecodingGSM7PackedHex is GSM 7-bit packed into octets, as hex (Huawei).
	DecodingGSM7PackedHex = "gsm7-packed-hex"
	// DecodingUCS2Hex is UCS2 big-endian, as hex.
	DecodingUCS2Hex = "ucs2-hex"
	// DecodingUCS2HexLang is UCS2 hex after a two-character language prefix (DCS 17).
	DecodingUCS2HexLang = "ucs2-hex-lang"
	// Decoding8Bit is 8-bit data, as hex.
	Decoding8Bit = "8bit"
	// DecodingText is the string taken as the modem sent it.
	DecodingText = "text"
)

// ErrMalformed is wrapped by ParseCUSD errors.
var ErrMalformed = errors.New("ussd: malformed +CUSD")

const cusdPrefix = "+CUSD:"

// ParseCUSD parses a whole "+CUSD: <m>[,<str>[,<dcs>]]" line and decodes the
// string. It tolerates missing fields, spacing, a missing closing quote, and
// quotes, commas and line breaks inside the string: the string runs to the last
// quote of the line. Errors do not quote the line, which may hold personal data.
func ParseCUSD(line string) (Reply, error) {
	s := strings.Trim(line, " \t\r\n")
	if len(s) < len(cusdPrefix) || !strings.EqualFold(s[:len(cusdPrefix)], cusdPrefix) {
		return Reply{}, fmt.Errorf("%w: no %s prefix", ErrMalformed, cusdPrefix)
	}
	s = strings.TrimLeft(s[len(cusdPrefix):], " \t")

	digits := leadingDigits(s)
	if digits == "" || len(digits) > 3 {
		return Reply{}, fmt.Errorf("%w: status is not a small number", ErrMalformed)
	}
	n, _ := strconv.Atoi(digits) // cannot fail: at most 3 digits
	status := Status(n)
	if !status.valid() {
		return Reply{}, fmt.Errorf("%w: unknown status %d", ErrMalformed, n)
	}
	reply := Reply{Status: status, DCS: -1}

	s = strings.TrimLeft(s[len(digits):], " \t")
	if s == "" {
		return reply, nil
	}
	if s[0] != ',' {
		return Reply{}, fmt.Errorf("%w: unexpected byte 0x%02x after status", ErrMalformed, s[0])
	}
	reply.Raw, reply.DCS = splitStringAndDCS(strings.TrimLeft(s[1:], " \t"))
	reply.Text, reply.Decoding = decode(reply.Raw, reply.DCS)
	return reply, nil
}

// splitStringAndDCS splits `"<str>",<dcs>` into its parts. A quoted string runs
// to the last quote, so quotes inside the text survive; an unquoted one ends at
// a trailing ",<number>" only when that number can be a DCS (0..255).
func splitStringAndDCS(s string) (raw string, dcs int) {
	if strings.HasPrefix(s, `"`) {
		body := s[1:]
		end := strings.LastIndexByte(body, '"')
		if end >= 0 {
			return body[:end], parseDCS(strings.TrimLeft(body[end+1:], " \t"))
		}
		s = body // closing quote lost: fall through to the unquoted rules
	}
	comma := strings.LastIndexByte(s, ',')
	if comma >= 0 {
		if d := parseDCS(s[comma:]); d >= 0 {
			return s[:comma], d
		}
	}
	return s, -1
}

// parseDCS reads ",<dcs>" with optional spaces; -1 when absent or not a DCS.
func parseDCS(tail string) int {
	tail, ok := strings.CutPrefix(tail, ",")
	if !ok {
		return -1
	}
	tail = strings.Trim(tail, " \t")
	if tail == "" || len(tail) > 3 || leadingDigits(tail) != tail {
		return -1
	}
	d, _ := strconv.Atoi(tail) // cannot fail: at most 3 digits
	if d > 255 {
		return -1
	}
	return d
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
