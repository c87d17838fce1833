package confirm

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/sms"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// Operator facts are advisory: what the customer's operator keeps and which
// of its payment limits a payment would break, counted over the
// confirmations this bridge has seen for that customer. Operators count
// days and months in Moscow time.

func (s *Confirmations) quote(w http.ResponseWriter, r *http.Request) {
	var req api.QuoteRequest
	if err := httpapi.Decode(r, &req); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	amount, err := payment.ParseAmount(req.Amount)
	if err != nil {
		httpapi.WriteError(w, fieldError(err))
		return
	}
	p, err := s.customerOperator(req.CustomerOperator)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	q := api.Quote{CustomerOperator: req.CustomerOperator, OperatorName: p.Name, Amount: amount, CommissionPercent: p.Commission, Breaks: []api.LimitBreak{}}
	if q.Commission, err = payment.Commission(amount, p.Commission); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	q.Total = ussd.AmountFromKopecks(amount.Kopecks() + q.Commission.Kopecks())
	q.Limits = limitsOf(p.PaymentLimits)
	var u payment.Usage
	if req.Phone != "" {
		phone, err := sms.Normalize(req.Phone)
		if err != nil {
			httpapi.WriteError(w, httpapi.BadField("phone", "%v", err))
			return
		}
		day, month := payment.Windows(s.now())
		if u, err = s.store.PaymentUsage(r.Context(), phone, day, month); err != nil {
			httpapi.WriteError(w, err)
			return
		}
		q.Usage = &api.QuoteUsage{Day: u.Day, Month: u.Month, DayPayments: u.DayPayments}
	}
	for _, b := range payment.LimitBreaks(p.PaymentLimits, amount, u) {
		q.Breaks = append(q.Breaks, api.LimitBreak{Limit: b.Limit, Allowed: b.Allowed, After: b.After})
	}
	httpapi.WriteJSON(w, http.StatusOK, q)
}

// customerOperator reads a quote's customer_operator: a PLMN, or, for a
// caller who knows the brand rather than the network code, the operator's
// name in any case ("mts", "Beeline").
func (s *Confirmations) customerOperator(name string) (ussd.Profile, error) {
	if name == "" || isDigits(name) {
		if err := validPLMN(name); err != nil {
			return ussd.Profile{}, err
		}
		p, ok := s.operators.ByPLMN(name)
		if !ok {
			return ussd.Profile{}, unknownOperator(name)
		}
		return p, nil
	}
	if len(name) > 40 {
		return ussd.Profile{}, httpapi.BadField("customer_operator", "must be a PLMN such as \"25020\" or an operator's name such as \"mts\"")
	}
	var found []ussd.Profile
	var names []string
	for _, p := range s.operators.All() {
		if strings.EqualFold(p.Name, name) {
			found = append(found, p)
		}
		if p.Name != "" {
			names = append(names, strings.ToLower(p.Name))
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return ussd.Profile{}, &httpapi.Error{Status: http.StatusUnprocessableEntity, Code: "unknown_operator", Field: "customer_operator",
			Message: fmt.Sprintf("customer_operator: no operator is named %q; the names known are %s, or give the PLMN", name, strings.Join(names, ", "))}
	}
	var plmns []string
	for _, p := range found {
		plmns = append(plmns, p.PLMN...)
	}
	return ussd.Profile{}, &httpapi.Error{Status: http.StatusUnprocessableEntity, Code: "ambiguous_operator", Field: "customer_operator",
		Message: fmt.Sprintf("customer_operator: %d operators are named %q; give the PLMN (%s)", len(found), name, strings.Join(plmns, ", "))}
}

func limitsOf(l ussd.PaymentLimits) api.PaymentLimits {
	opt := func(a ussd.Amount) *ussd.Amount {
		if a.IsZero() {
			return nil
		}
		return &a
	}
	return api.PaymentLimits{PerPayment: opt(l.PerPayment), PerDay: opt(l.PerDay), PerMonth: opt(l.PerMonth), PaymentsPerDay: l.PaymentsPerDay}
}

func unknownOperator(plmn string) *httpapi.Error {
	return &httpapi.Error{Status: http.StatusUnprocessableEntity, Code: "unknown_operator", Field: "customer_operator",
		Message: "customer_operator: no operator profile for PLMN " + plmn}
}

// admitPayment refuses, when limits are enforced, a confirmation that would
// break a limit of the customer's operator; the check it returns runs inside
// the store's creating transaction with the customer's usage. An operator
// without a profile is refused at once: its limits cannot be enforced.
func (s *Confirmations) admitPayment(plmn string, amount ussd.Amount) (func(payment.Usage) error, error) {
	if !s.cfg.EnforceLimits || plmn == "" {
		return nil, nil
	}
	p, ok := s.operators.ByPLMN(plmn)
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
		return &httpapi.Error{Status: http.StatusUnprocessableEntity, Code: "payment_limit", Field: "amount",
			Message: "amount: " + p.Name + " " + strings.Join(msgs, "; ")}
	}, nil
}

func validPLMN(s string) error {
	if s == "" {
		return httpapi.BadField("customer_operator", "is required")
	}
	if !isDigits(s) || len(s) < 5 || len(s) > 6 {
		return httpapi.BadField("customer_operator", "must be a PLMN: MCC and MNC digits such as \"25020\"")
	}
	return nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
