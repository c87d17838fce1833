package sms

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		errText string // part of the error message when Normalize must fail
	}{
		{in: "+79161234567", want: "+79161234567"},
		{in: "89161234567", want: "+79161234567"},
		{in: "79161234567", want: "+79161234567"},
		{in: "9161234567", want: "+79161234567"},
		{in: "8 (916) 123-45-67", want: "+79161234567"},
		{in: "+7 916 123 45 67", want: "+79161234567"},
		{in: "+7-916-123-45-67", want: "+79161234567"},
		{in: "8.916.123.45.67", want: "+79161234567"},
		{in: " +7 (916) 123–45–67 ", want: "+79161234567"},     // en dashes, pasted from a web page
		{in: "+7\u00a0916\u00a01234567", want: "+79161234567"}, // no-break spaces
		{in: "84951234567", want: "+74951234567"},              // Moscow landline
		{in: "0079161234567", want: "+79161234567"},
		{in: "+44 20 7946 0958", want: "+442079460958"},
		{in: "+380501234567", want: "+380501234567"},
		{in: "+12025550123", want: "+12025550123"},
		{in: "+35312345", want: "+35312345"},               // 8 digits: shortest accepted
		{in: "+123456789012345", want: "+123456789012345"}, // 15 digits: longest E.164
		{in: "", errText: "empty"},
		{in: "   ", errText: "empty"},
		{in: "+", errText: "no digits"},
		{in: "+7916123456", errText: "+7 numbers have 11 digits, got 10"},
		{in: "+791612345678", errText: "+7 numbers have 11 digits, got 12"},
		{in: "+3531234", errText: "too short"},
		{in: "+1234567890123456", errText: "too long"},
		{in: "+0123456789", errText: "never start with 0"},
		{in: "7+9161234567", errText: "'+' at position 2"},
		{in: "++79161234567", errText: "'+' at position 2"},
		{in: "8916123456a", errText: `unexpected 'a' at position 11`},
		{in: "MTS", errText: `unexpected 'M' at position 1`},
		{in: "8916/1234567", errText: `unexpected '/'`},
		{in: "916123456", errText: "too short for a Russian number"},
		{in: "69161234567", errText: "not a Russian number"},
		{in: "380501234567", errText: "not a Russian number"},
		{in: "19161234567", errText: "not a Russian number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if tt.errText != "" {
				if err == nil {
					t.Fatalf("Normalize(%q) = %q, want an error containing %q", tt.in, got, tt.errText)
				}
				if !errors.Is(err, ErrInvalidNumber) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("Normalize(%q) error = %v, want ErrInvalidNumber containing %q", tt.in, err, tt.errText)
				}
				if d := strings.Trim(tt.in, " +"); len(d) > 6 && strings.Contains(err.Error(), d) {
					t.Errorf("error %q repeats the number", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if again, err := Normalize(got); err != nil || again != got {
				t.Errorf("Normalize is not idempotent: %q → %q, %v", got, again, err)
			}
		})
	}
}

func TestMaskNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+79161234567", "+7916****67"},
		{"+442079460958", "+44207****58"},
		{"+380501234567", "+380501****67"},
		{"+12025550123", "+1202****23"},
		{"+35312345", "+35****45"}, // keeps fewer digits than usual to hide at least 4
		{"+1234", "+****"},
		{"89161234567", "8916****67"},
		{"9161234", "9****34"},
		{"900", "900"},
		{"000100", "000100"},
		{"MTS", "MTS"},
		{"Tele2", "Tele2"},
		{"MegaFon", "MegaFon"},
		{"8916123456a", "***"}, // letters do not make a number a sender name
		{"Your payment of 500 RUB", "***"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskNumber(tt.in); got != tt.want {
			t.Errorf("MaskNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
