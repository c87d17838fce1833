package ussd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Amount is money in kopecks: decimal, never float, so balances and limits
// compare and add exactly.
type Amount struct{ kopecks int64 }

// maxAmountDigits keeps kopecks far from int64 overflow; no phone balance or
// payment limit comes near 10^13 roubles.
const maxAmountDigits = 13

// ErrAmount is wrapped by ParseAmount errors.
var ErrAmount = errors.New("ussd: invalid amount")

// AmountFromKopecks returns the amount of k kopecks.
func AmountFromKopecks(k int64) Amount { return Amount{k} }

// Kopecks returns the amount in kopecks.
func (a Amount) Kopecks() int64 { return a.kopecks }

// IsZero reports whether the amount is 0.
func (a Amount) IsZero() bool { return a.kopecks == 0 }

// String formats with a point and two decimals: "151.25", "-12.30".
func (a Amount) String() string {
	k := a.kopecks
	sign := ""
	if k < 0 {
		sign, k = "-", -k
	}
	return fmt.Sprintf("%s%d.%02d", sign, k/100, k%100)
}

// ParseAmount reads a plain decimal such as "151.25", "-12.3" or "30000": an
// optional minus, digits, and at most two decimals after a point. It is for
// configuration and JSON; texts from operators go through ParseBalance.
func ParseAmount(s string) (Amount, error) {
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole == "" || leadingDigits(whole) != whole || leadingDigits(frac) != frac ||
		len(frac) > 2 || len(whole) > maxAmountDigits || strings.HasSuffix(s, ".") {
		return Amount{}, fmt.Errorf("%w: %q", ErrAmount, s)
	}
	return amountFromDigits(neg, whole, frac), nil
}

// amountFromDigits builds an amount from validated digit strings, len(frac) <= 2.
func amountFromDigits(neg bool, whole, frac string) Amount {
	w, _ := strconv.ParseInt(whole, 10, 64) // validated: digits only, bounded length
	f, _ := strconv.ParseInt((frac + "00")[:2], 10, 64)
	k := w*100 + f
	if neg {
		k = -k
	}
	return Amount{k}
}

// MarshalText writes the String form, so YAML and JSON keep the decimal exact.
func (a Amount) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads what ParseAmount reads.
func (a *Amount) UnmarshalText(b []byte) error {
	v, err := ParseAmount(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// MarshalJSON writes the amount as a JSON string, "151.25", so no client
// reads it into a float.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(`"` + a.String() + `"`), nil }

// UnmarshalJSON reads a JSON string as written by MarshalJSON; null leaves
// the amount as it is, as encoding/json does for other types.
func (a *Amount) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s, err := strconv.Unquote(string(b))
	if err != nil || !strings.HasPrefix(string(b), `"`) {
		return fmt.Errorf("%w: JSON %s is not a string", ErrAmount, b)
	}
	return a.UnmarshalText([]byte(s))
}
