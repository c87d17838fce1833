package payment

import (
	"fmt"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/ussd"
)

func TestCommission(t *testing.T) {
	cases := []struct{ amount, percent, want string }{
		{"1500.00", "0.95", "14.25"},
		{"1000.01", "2.45", "24.50"},
		{"0.01", "", "0.00"},
		{"0.50", "1", "0.01"}, // half a kopeck rounds up
		{"0.49", "1", "0.00"},
		{"100.00", "100", "100.00"},
	}
	for _, c := range cases {
		a, _ := ussd.ParseAmount(c.amount)
		got, err := Commission(a, c.percent)
		if err != nil || got.String() != c.want {
			t.Errorf("%s at %s%%: %s %v, want %s", c.amount, c.percent, got, err, c.want)
		}
	}
	if _, err := Commission(ussd.AmountFromKopecks(100), "a lot"); err == nil {
		t.Error("a percent that is no number: no error")
	}
}

func TestLimitBreaks(t *testing.T) {
	rub := func(k int64) ussd.Amount { return ussd.AmountFromKopecks(k * 100) }
	limits := ussd.PaymentLimits{PerPayment: rub(15000), PerDay: rub(30000), PerMonth: rub(40000), PaymentsPerDay: 5}
	cases := []struct {
		name   string
		limits ussd.PaymentLimits
		amount ussd.Amount
		used   Usage
		want   string
	}{
		{"fresh", limits, rub(1500), Usage{}, "[]"},
		{"exactly at every limit", limits, rub(15000), Usage{Day: rub(15000), Month: rub(25000), DayPayments: 4}, "[]"},
		{"per payment by a kopeck", limits, ussd.AmountFromKopecks(1500001), Usage{}, "[per_payment limit 15000.00 would become 15000.01]"},
		{"per day", limits, rub(10000), Usage{Day: rub(25000), Month: rub(25000)}, "[per_day limit 30000.00 would become 35000.00]"},
		{"per month", limits, rub(10000), Usage{Month: rub(35000)}, "[per_month limit 40000.00 would become 45000.00]"},
		{"payments per day", limits, rub(1), Usage{DayPayments: 5}, "[payments_per_day limit 5 would become 6]"},
		{"all at once", limits, rub(20000), Usage{Day: rub(20000), Month: rub(30000), DayPayments: 5},
			"[per_payment limit 15000.00 would become 20000.00 per_day limit 30000.00 would become 40000.00 per_month limit 40000.00 would become 50000.00 payments_per_day limit 5 would become 6]"},
		{"unknown limits never break", ussd.PaymentLimits{}, rub(999999), Usage{Day: rub(999999), DayPayments: 99}, "[]"},
	}
	for _, c := range cases {
		if got := fmt.Sprint(LimitBreaks(c.limits, c.amount, c.used)); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestPaymentWindowsAreMoscowDays(t *testing.T) {
	// 22:30 UTC on 31 March is already 1 April in Moscow.
	day, month := Windows(time.Date(2026, 3, 31, 22, 30, 0, 0, time.UTC))
	if want := time.Date(2026, 3, 31, 21, 0, 0, 0, time.UTC); !day.Equal(want) {
		t.Errorf("day starts %v, want %v", day.UTC(), want)
	}
	if want := time.Date(2026, 3, 31, 21, 0, 0, 0, time.UTC); !month.Equal(want) {
		t.Errorf("month starts %v, want %v", month.UTC(), want)
	}
	day, month = Windows(time.Date(2026, 3, 15, 20, 59, 59, 0, time.UTC))
	if want := time.Date(2026, 3, 14, 21, 0, 0, 0, time.UTC); !day.Equal(want) {
		t.Errorf("day starts %v, want %v", day.UTC(), want)
	}
	if want := time.Date(2026, 2, 28, 21, 0, 0, 0, time.UTC); !month.Equal(want) {
		t.Errorf("month starts %v, want %v", month.UTC(), want)
	}
}
