package daemon

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/sms"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// Operator facts are advisory: what the customer's operator keeps and which
// of its payment limits a payment would break, counted over the
// confirmations this bridge has seen for that customer. Operators count
// days and months in Moscow time.

type quoteRequest struct {
	CustomerOperator string `json:"customer_operator"`
	Amount           string `json:"amount"`
	Phone            string `json:"phone,omitempty"`
}

// quote is the answer of POST /v1/quote.
type quote struct {
	CustomerOperator  string        `json:"customer_operator"`
	OperatorName      string        `json:"operator_name"`
	Amount            ussd.Amount   `json:"amount"`
	CommissionPercent string        `json:"commission_percent"`
	Commission        ussd.Amount   `json:"commission"`
	Total             ussd.Amount   `json:"total"`
	Limits            paymentLimits `json:"limits"`
	Usage             *usage        `json:"usage,omitempty"`
	Breaks            []limitBreak  `json:"breaks"`
}

type paymentLimits struct {
	PerPayment     *ussd.Amount `json:"per_payment,omitempty"`
	PerDay         *ussd.Amount `json:"per_day,omitempty"`
	PerMonth       *ussd.Amount `json:"per_month,omitempty"`
	PaymentsPerDay int          `json:"payments_per_day,omitempty"`
}

type usage struct {
	Day         ussd.Amount `json:"day"`
	Month       ussd.Amount `json:"month"`
	DayPayments int         `json:"day_payments"`
}

// limitBreak names a limit the payment would break.
type limitBreak struct {
	Limit   string `json:"limit"` // per_payment, per_day, per_month, payments_per_day
	Allowed string `json:"allowed"`
	After   string `json:"after"` // the sum or count with this payment
}

func (b limitBreak) String() string {
	return fmt.Sprintf("%s limit %s would become %s", b.Limit, b.Allowed, b.After)
}

func (d *Daemon) postQuote(w http.ResponseWriter, r *http.Request) {
	var req quoteRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	amount, err := parsePaymentAmount(req.Amount)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := validPLMN(req.CustomerOperator); err != nil {
		writeError(w, err)
		return
	}
	p, ok := d.operatorProfile(req.CustomerOperator)
	if !ok {
		writeError(w, unknownOperator(req.CustomerOperator))
		return
	}
	q := quote{CustomerOperator: req.CustomerOperator, OperatorName: p.Name, Amount: amount, CommissionPercent: p.Commission, Breaks: []limitBreak{}}
	if q.Commission, err = commission(amount, p.Commission); err != nil {
		writeError(w, err)
		return
	}
	q.Total = ussd.AmountFromKopecks(amount.Kopecks() + q.Commission.Kopecks())
	q.Limits = limitsOf(p.PaymentLimits)
	var u payment.Usage
	if req.Phone != "" {
		phone, err := sms.Normalize(req.Phone)
		if err != nil {
			writeError(w, badField("phone", "%v", err))
			return
		}
		day, month := paymentWindows(d.now())
		if u, err = d.store.PaymentUsage(r.Context(), phone, day, month); err != nil {
			writeError(w, err)
			return
		}
		q.Usage = &usage{Day: u.Day, Month: u.Month, DayPayments: u.DayPayments}
	}
	q.Breaks = append(q.Breaks, limitBreaks(p.PaymentLimits, amount, u)...)
	writeJSON(w, http.StatusOK, q)
}

// operatorProfile finds the profile of a PLMN among the built-in operators
// with the configured ones laid over them.
func (d *Daemon) operatorProfile(plmn string) (ussd.Profile, bool) {
	merged, err := mergeProfiles(ussd.DefaultProfiles(), d.cfg.Operators)
	if err != nil {
		return ussd.Profile{}, false // New refused such a configuration already
	}
	i := slices.IndexFunc(merged, func(p ussd.Profile) bool { return slices.Contains(p.PLMN, plmn) })
	if i < 0 {
		return ussd.Profile{}, false
	}
	return merged[i], true
}

// commission is what the operator keeps of amount at percent, rounded half
// up to the kopeck. The percent is a decimal with at most two places, so the
// whole computation stays in integers.
func commission(amount ussd.Amount, percent string) (ussd.Amount, error) {
	if percent == "" {
		return ussd.Amount{}, nil
	}
	p, err := ussd.ParseAmount(percent) // hundredths of a percent
	if err != nil {
		return ussd.Amount{}, fmt.Errorf("operator commission: %w", err)
	}
	return ussd.AmountFromKopecks((amount.Kopecks()*p.Kopecks() + 5000) / 10000), nil
}

func limitsOf(l ussd.PaymentLimits) paymentLimits {
	opt := func(a ussd.Amount) *ussd.Amount {
		if a.IsZero() {
			return nil
		}
		return &a
	}
	return paymentLimits{PerPayment: opt(l.PerPayment), PerDay: opt(l.PerDay), PerMonth: opt(l.PerMonth), PaymentsPerDay: l.PaymentsPerDay}
}

// limitBreaks lists the limits amount would break on top of what the
// customer already used; zero limits are unknown and never break.
func limitBreaks(l ussd.PaymentLimits, amount ussd.Amount, u payment.Usage) []limitBreak {
	var out []limitBreak
	sum := func(name string, limit, used ussd.Amount) {
		after := used.Kopecks() + amount.Kopecks()
		if !limit.IsZero() && after > limit.Kopecks() {
			out = append(out, limitBreak{Limit: name, Allowed: limit.String(), After: ussd.AmountFromKopecks(after).String()})
		}
	}
	sum("per_payment", l.PerPayment, ussd.Amount{})
	sum("per_day", l.PerDay, u.Day)
	sum("per_month", l.PerMonth, u.Month)
	if l.PaymentsPerDay > 0 && u.DayPayments+1 > l.PaymentsPerDay {
		out = append(out, limitBreak{Limit: "payments_per_day", Allowed: strconv.Itoa(l.PaymentsPerDay), After: strconv.Itoa(u.DayPayments + 1)})
	}
	return out
}

// paymentZone is where operators' payment days and months begin. Moscow has
// kept UTC+3 all year since 2014, so a system without time zone data loses
// nothing by the fixed fallback.
func paymentZone() *time.Location {
	if loc, err := time.LoadLocation(ussd.PaymentZone); err == nil {
		return loc
	}
	return time.FixedZone("MSK", 3*60*60)
}

// paymentWindows returns the starts of the payment day and month holding now.
func paymentWindows(now time.Time) (day, month time.Time) {
	t := now.In(paymentZone())
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location()),
		time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
}

func unknownOperator(plmn string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Code: "unknown_operator", Field: "customer_operator",
		Message: "customer_operator: no operator profile for PLMN " + plmn}
}

// admitPayment refuses, when limits are enforced, a confirmation that would
// break a limit of the customer's operator; the check it returns runs inside
// the store's creating transaction with the customer's usage. An operator
// without a profile is refused at once: its limits cannot be enforced.
func (d *Daemon) admitPayment(plmn string, amount ussd.Amount) (func(payment.Usage) error, error) {
	if !d.cfg.Confirmations.EnforceLimits || plmn == "" {
		return nil, nil
	}
	p, ok := d.operatorProfile(plmn)
	if !ok {
		return nil, unknownOperator(plmn)
	}
	return func(u payment.Usage) error {
		breaks := limitBreaks(p.PaymentLimits, amount, u)
		if len(breaks) == 0 {
			return nil
		}
		msgs := make([]string, len(breaks))
		for i, b := range breaks {
			msgs[i] = b.String()
		}
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "payment_limit", Field: "amount",
			Message: "amount: " + p.Name + " " + strings.Join(msgs, "; ")}
	}, nil
}

// parsePaymentAmount reads a payment amount: a decimal with at most two
// places, above zero and at most what the SMS template is checked to hold.
func parsePaymentAmount(s string) (ussd.Amount, error) {
	if s == "" {
		return ussd.Amount{}, badField("amount", "is required")
	}
	a, err := ussd.ParseAmount(s)
	if err != nil || a.Kopecks() <= 0 {
		return ussd.Amount{}, badField("amount", "must be a decimal above 0 with at most 2 places, such as \"1500.00\"")
	}
	if a.Kopecks() > maxPaymentKopecks {
		return ussd.Amount{}, badField("amount", "must be at most %s", ussd.AmountFromKopecks(maxPaymentKopecks))
	}
	return a, nil
}

// maxPaymentKopecks is 999 999,99 руб., the longest amount the configured
// template is checked to fit one SMS with.
const maxPaymentKopecks = 99999999

func validPLMN(s string) error {
	if s == "" {
		return badField("customer_operator", "is required")
	}
	if !isDigits(s) || len(s) < 5 || len(s) > 6 {
		return badField("customer_operator", "must be a PLMN: MCC and MNC digits such as \"25020\"")
	}
	return nil
}
