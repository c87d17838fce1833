package payment

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/ussd"
)

// FieldError is a request field that breaks a rule; the HTTP layer answers
// it as a 400 naming the field.
type FieldError struct {
	Field, Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func badField(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// MaxAmount is 999 999,99 руб., the longest amount the configured template is
// checked to fit one SMS with.
var MaxAmount = ussd.AmountFromKopecks(99999999)

// ParseAmount reads a payment amount: a decimal with at most two places,
// above zero and at most MaxAmount.
func ParseAmount(s string) (ussd.Amount, error) {
	if s == "" {
		return ussd.Amount{}, badField("amount", "is required")
	}
	a, err := ussd.ParseAmount(s)
	if err != nil || a.Kopecks() <= 0 {
		return ussd.Amount{}, badField("amount", "must be a decimal above 0 with at most 2 places, such as \"1500.00\"")
	}
	if a.Kopecks() > MaxAmount.Kopecks() {
		return ussd.Amount{}, badField("amount", "must be at most %s", MaxAmount)
	}
	return a, nil
}

var placeholderPattern = regexp.MustCompile(`\{[^{}]*\}`)

// CheckTemplate holds a caller's text to the rules the configured template
// passed: both values shown, nothing else that looks like a placeholder.
func CheckTemplate(t string) error {
	for _, ph := range []string{"{txn}", "{amount}"} {
		if !strings.Contains(t, ph) {
			return badField("text", "must contain %s: the customer confirms what the SMS shows", ph)
		}
	}
	for _, ph := range placeholderPattern.FindAllString(t, -1) {
		if ph != "{txn}" && ph != "{amount}" {
			return badField("text", "unknown placeholder %s; only {txn} and {amount} are replaced", ph)
		}
	}
	return nil
}

// FillTemplate writes the text the customer gets.
func FillTemplate(template, txn string, amount ussd.Amount) string {
	return strings.NewReplacer("{txn}", txn, "{amount}", FormatRoubles(amount)).Replace(template)
}

// FormatRoubles writes an amount the Russian way, "1 500,00 руб.". Thousands
// are separated by a plain space, not the typographic no-break space: the
// text is UCS2 anyway because of the Cyrillic, but a plain space survives
// every handset and copy-paste the same way.
func FormatRoubles(a ussd.Amount) string {
	k := a.Kopecks()
	sign := ""
	if k < 0 {
		sign, k = "-", -k
	}
	whole := strconv.FormatInt(k/100, 10)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return sign + b.String() + "," + strconv.FormatInt(k%100/10, 10) + strconv.FormatInt(k%10, 10) + " руб."
}

// Request is a confirmation request as the caller wrote it, normalised: the
// phone in E.164, the amount parsed, Template the caller's own text ("" for
// the configured one) and TTL the one asked for (0 for the default).
type Request struct {
	Phone, Txn       string
	Amount           ussd.Amount
	Currency         string
	Template         string
	CustomerOperator string
	TTL              time.Duration
}

// Fingerprint identifies a request, so a repeated id can be told apart from
// a retry. It is of the request, not of what the configuration made of it: a
// retry of the same body after the template or the default ttl changed is
// still the same payment. Stored fingerprints compare with new ones, so its
// encoding never changes (a test pins it).
func Fingerprint(r Request) string {
	fp, _ := json.Marshal(struct {
		Phone, Txn, Amount, Currency, Template, Operator string
		TTL                                              time.Duration
	}{r.Phone, r.Txn, r.Amount.String(), r.Currency, r.Template, r.CustomerOperator, r.TTL})
	sum := sha256.Sum256(fp)
	return hex.EncodeToString(sum[:])
}
