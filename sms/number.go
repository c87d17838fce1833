package sms

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/warthog618/sms/encoding/tpdu"
)

// ErrInvalidNumber is wrapped by every error Normalize returns.
var ErrInvalidNumber = errors.New("invalid phone number")

// E.164 allows at most 15 digits; fewer than 8 digits after a country code is
// not a subscriber number in any numbering plan we deliver to.
const (
	minE164Digits = 8
	maxE164Digits = 15
	// Russia and Kazakhstan share country code 7 and a closed 10-digit
	// national plan, so a +7 number has exactly 11 digits.
	ruDigits = 11
)

// Normalize turns what a caller or the network gives into E.164: "+" and
// digits.
//
// Russian rules apply to numbers without "+": 11 digits starting with 8 or 7
// ("89161234567", "79161234567") and 10 digits starting with 9
// ("9161234567") all become "+79161234567". "00" in front is the
// international prefix and counts as "+". Spaces (any Unicode space), dashes,
// dots and parentheses are dropped. A "+7" number must have exactly 11
// digits; other "+" numbers need 8 to 15 digits and a country code not
// starting with 0. Digits without "+" that do not look Russian are refused
// rather than guessed at. Errors wrap ErrInvalidNumber and say what is wrong
// without repeating the number.
func Normalize(number string) (string, error) {
	if strings.TrimSpace(number) == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidNumber)
	}
	digits := make([]byte, 0, len(number))
	plus := false
	pos := 0
	for _, r := range number {
		pos++
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+':
			if plus || len(digits) > 0 {
				return "", fmt.Errorf("%w: '+' at position %d; it may only lead the number", ErrInvalidNumber, pos)
			}
			plus = true
		case isNumberSeparator(r):
		default:
			return "", fmt.Errorf("%w: unexpected %q at position %d", ErrInvalidNumber, r, pos)
		}
	}
	if !plus && len(digits) > 2 && digits[0] == '0' && digits[1] == '0' {
		plus = true
		digits = digits[2:]
	}
	if plus {
		return international(digits)
	}
	return russianNational(digits)
}

func isNumberSeparator(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || r == '.' || r == '(' || r == ')'
}

func international(digits []byte) (string, error) {
	n := len(digits)
	switch {
	case n == 0:
		return "", fmt.Errorf("%w: no digits after '+'", ErrInvalidNumber)
	case digits[0] == '0':
		return "", fmt.Errorf("%w: country codes never start with 0", ErrInvalidNumber)
	case digits[0] == '7' && n != ruDigits:
		return "", fmt.Errorf("%w: +7 numbers have %d digits, got %d", ErrInvalidNumber, ruDigits, n)
	case n < minE164Digits:
		return "", fmt.Errorf("%w: %d digits is too short, want at least %d", ErrInvalidNumber, n, minE164Digits)
	case n > maxE164Digits:
		return "", fmt.Errorf("%w: %d digits is too long, E.164 allows %d", ErrInvalidNumber, n, maxE164Digits)
	}
	return "+" + string(digits), nil
}

func russianNational(digits []byte) (string, error) {
	n := len(digits)
	switch {
	case n == ruDigits && (digits[0] == '8' || digits[0] == '7'):
		return "+7" + string(digits[1:]), nil
	case n == ruDigits-1 && digits[0] == '9':
		return "+7" + string(digits), nil
	case n < ruDigits-1:
		return "", fmt.Errorf("%w: %d digits is too short for a Russian number", ErrInvalidNumber, n)
	}
	return "", fmt.Errorf("%w: %d digits without '+' is not a Russian number; give other countries as +<country code>", ErrInvalidNumber, n)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// addressText renders an originating or recipient address: international
// numbers as "+digits"; alphanumeric names (TON 5) as their text, with alpha
// true; unknown or national numbers normalised when they follow the Russian
// patterns Normalize knows, otherwise the digits as sent (short codes such as
// "900").
func addressText(a tpdu.Address) (text string, alpha bool) {
	switch a.TypeOfNumber() {
	case tpdu.TonAlphanumeric:
		return a.Addr, true
	case tpdu.TonInternational:
		if a.Addr == "" {
			return "", false
		}
		return "+" + a.Addr, false
	}
	if allDigits(a.Addr) {
		if n, err := Normalize(a.Addr); err == nil {
			return n, false
		}
	}
	return a.Addr, false
}
