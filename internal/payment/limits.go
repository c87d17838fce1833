package payment

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gsmbridge/gsmbridge/ussd"
)

// Usage is what one customer has confirmed or may still confirm in the
// current payment day and month: the sums the operator's limits apply to. A
// pending confirmation may still be paid, so it counts until it fails.
type Usage struct {
	Day, Month  ussd.Amount
	DayPayments int
}

// Commission is what the operator keeps of amount at percent, rounded half
// up to the kopeck. The percent is a decimal with at most two places, so the
// whole computation stays in integers.
func Commission(amount ussd.Amount, percent string) (ussd.Amount, error) {
	if percent == "" {
		return ussd.Amount{}, nil
	}
	p, err := ussd.ParseAmount(percent) // hundredths of a percent
	if err != nil {
		return ussd.Amount{}, fmt.Errorf("operator commission: %w", err)
	}
	return ussd.AmountFromKopecks((amount.Kopecks()*p.Kopecks() + 5000) / 10000), nil
}

// LimitBreak names a limit a payment would break.
type LimitBreak struct {
	Limit   string `json:"limit"` // per_payment, per_day, per_month, payments_per_day
	Allowed string `json:"allowed"`
	After   string `json:"after"` // the sum or count with this payment
}

func (b LimitBreak) String() string {
	return fmt.Sprintf("%s limit %s would become %s", b.Limit, b.Allowed, b.After)
}

// LimitBreaks lists the limits amount would break on top of what the
// customer already used; zero limits are unknown and never break.
func LimitBreaks(l ussd.PaymentLimits, amount ussd.Amount, u Usage) []LimitBreak {
	var out []LimitBreak
	sum := func(name string, limit, used ussd.Amount) {
		after := used.Kopecks() + amount.Kopecks()
		if !limit.IsZero() && after > limit.Kopecks() {
			out = append(out, LimitBreak{Limit: name, Allowed: limit.String(), After: ussd.AmountFromKopecks(after).String()})
		}
	}
	sum("per_payment", l.PerPayment, ussd.Amount{})
	sum("per_day", l.PerDay, u.Day)
	sum("per_month", l.PerMonth, u.Month)
	if l.PaymentsPerDay > 0 && u.DayPayments+1 > l.PaymentsPerDay {
		out = append(out, LimitBreak{Limit: "payments_per_day", Allowed: strconv.Itoa(l.PaymentsPerDay), After: strconv.Itoa(u.DayPayments + 1)})
	}
	return out
}

// Zone is where operators' payment days and months begin. Moscow has kept
// UTC+3 all year since 2014, so a system without time zone data loses
// nothing by the fixed fallback.
func Zone() *time.Location {
	if loc, err := time.LoadLocation(ussd.PaymentZone); err == nil {
		return loc
	}
	return time.FixedZone("MSK", 3*60*60)
}

// Windows returns the starts of the payment day and month holding now.
func Windows(now time.Time) (day, month time.Time) {
	t := now.In(Zone())
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location()),
		time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
}
