package ussd

import (
	"errors"
	"fmt"
)

// MaxCodeLen bounds what ValidCode accepts. The network would take up to 182
// GSM 7-bit characters, but real service codes, menu answers and payment codes
// with a phone number and an amount stay under 40, and in the UCS2 dialect every
// character becomes four hex digits on the AT command line, whose buffer is
// small on cheap modems. 64 keeps the longest argument at 256 characters.
const MaxCodeLen = 64

// ErrInvalidCode is wrapped by every error ValidCode returns.
var ErrInvalidCode = errors.New("ussd: invalid code")

// ValidCode reports whether s may be sent as a USSD code or menu answer. Only
// digits, '*' and '#' pass: anything else could end the quoted string of
// AT+CUSD and inject a command. The error names the first offending position
// but not the code itself, which may carry a phone number.
func ValidCode(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrInvalidCode)
	}
	if len(s) > MaxCodeLen {
		return fmt.Errorf("%w: %d bytes, at most %d allowed", ErrInvalidCode, len(s), MaxCodeLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && c != '*' && c != '#' {
			return fmt.Errorf("%w: byte 0x%02x at position %d, only 0-9 * # allowed", ErrInvalidCode, c, i)
		}
	}
	return nil
}
