package daemon

import (
	"net/http"
	"slices"
	"strings"

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
	CustomerOperator  string               `json:"customer_operator"`
	OperatorName      string               `json:"operator_name"`
	Amount            ussd.Amount          `json:"amount"`
	CommissionPercent string               `json:"commission_percent"`
	Commission        ussd.Amount          `json:"commission"`
	Total             ussd.Amount          `json:"total"`
	Limits            paymentLimits        `json:"limits"`
	Usage             *usage               `json:"usage,omitempty"`
	Breaks            []payment.LimitBreak `json:"breaks"`
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

func (d *Daemon) postQuote(w http.ResponseWriter, r *http.Request) {
	var req quoteRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	amount, err := payment.ParseAmount(req.Amount)
	if err != nil {
		writeError(w, fieldError(err))
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
	q := quote{CustomerOperator: req.CustomerOperator, OperatorName: p.Name, Amount: amount, CommissionPercent: p.Commission, Breaks: []payment.LimitBreak{}}
	if q.Commission, err = payment.Commission(amount, p.Commission); err != nil {
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
		day, month := payment.Windows(d.now())
		if u, err = d.store.PaymentUsage(r.Context(), phone, day, month); err != nil {
			writeError(w, err)
			return
		}
		q.Usage = &usage{Day: u.Day, Month: u.Month, DayPayments: u.DayPayments}
	}
	q.Breaks = append(q.Breaks, payment.LimitBreaks(p.PaymentLimits, amount, u)...)
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

func limitsOf(l ussd.PaymentLimits) paymentLimits {
	opt := func(a ussd.Amount) *ussd.Amount {
		if a.IsZero() {
			return nil
		}
		return &a
	}
	return paymentLimits{PerPayment: opt(l.PerPayment), PerDay: opt(l.PerDay), PerMonth: opt(l.PerMonth), PaymentsPerDay: l.PaymentsPerDay}
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
		breaks := payment.LimitBreaks(p.PaymentLimits, amount, u)
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

func validPLMN(s string) error {
	if s == "" {
		return badField("customer_operator", "is required")
	}
	if !isDigits(s) || len(s) < 5 || len(s) > 6 {
		return badField("customer_operator", "must be a PLMN: MCC and MNC digits such as \"25020\"")
	}
	return nil
}
