package operators

import (
	"fmt"
	"slices"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// Merge lays the configured operators over the built-in profiles: an
// entry sharing a PLMN with a built-in profile overrides the fields it sets,
// any other entry adds an operator.
func Merge(builtin []ussd.Profile, ops []config.Operator) ([]ussd.Profile, error) {
	out := slices.Clone(builtin)
	for i, op := range ops {
		at := slices.IndexFunc(out, func(p ussd.Profile) bool {
			return slices.ContainsFunc(op.PLMN, func(plmn string) bool { return slices.Contains(p.PLMN, plmn) })
		})
		var p ussd.Profile
		if at >= 0 {
			p = out[at]
		}
		if err := overlay(&p, op); err != nil {
			return nil, fmt.Errorf("operators[%d]: %w", i, err)
		}
		if at >= 0 {
			out[at] = p
		} else {
			out = append(out, p)
		}
	}
	return out, nil
}

// overlay sets what op configures on p.
func overlay(p *ussd.Profile, op config.Operator) error {
	if len(op.PLMN) > 0 {
		for _, plmn := range op.PLMN {
			if !slices.Contains(p.PLMN, plmn) {
				p.PLMN = append(p.PLMN, plmn)
			}
		}
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&p.Name, op.Name)
	set(&p.BalanceCode, op.BalanceCode)
	set(&p.OwnNumberCode, op.OwnNumberCode)
	set(&p.Commission, op.CommissionPercent)
	// In the config 0 keeps the built-in limit and -1 lifts it; the
	// profile's 0 means no limit.
	lim := func(dst *int, v int) {
		switch {
		case v < 0:
			*dst = 0
		case v > 0:
			*dst = v
		}
	}
	lim(&p.Limits.PerMinute, op.Limits.PerMinute)
	lim(&p.Limits.PerHour, op.Limits.PerHour)
	lim(&p.Limits.PerDay, op.Limits.PerDay)
	if len(op.ServiceSenders) > 0 {
		p.ServiceSenders = op.ServiceSenders
	}
	if len(op.BalancePatterns) > 0 {
		p.BalancePatterns = op.BalancePatterns
	}
	if len(op.BalanceBySMSPatterns) > 0 {
		p.BySMSPatterns = op.BalanceBySMSPatterns
	}
	amounts := []struct {
		v   string
		dst *ussd.Amount
	}{{op.PaymentLimits.PerPayment, &p.PaymentLimits.PerPayment}, {op.PaymentLimits.PerDay, &p.PaymentLimits.PerDay}, {op.PaymentLimits.PerMonth, &p.PaymentLimits.PerMonth}}
	for _, a := range amounts {
		if a.v == "" {
			continue
		}
		v, err := ussd.ParseAmount(a.v)
		if err != nil {
			return err
		}
		*a.dst = v
	}
	lim(&p.PaymentLimits.PaymentsPerDay, op.PaymentLimits.PaymentsPerDay)
	return nil
}
