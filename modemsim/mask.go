package modemsim

import "unicode"

// This is a private copy of sms.MaskNumber (sms/mask.go), so that modemsim
// stays a leaf; TestMaskRulesAgree holds it to the same table
// (sms/testdata/mask_rules.txt). Change both or neither.

// maskNumber hides the subscriber part of a number in errors and logs:
// "+79161234567" → "+7916****67"; short codes and sender names stay.
func maskNumber(s string) string {
	switch {
	case s == "":
		return ""
	case s[0] == '+' && allDigits(s[1:]):
		return "+" + maskRun(s[1:], countryCodeLen(s[1:])+3)
	case allDigits(s):
		if len(s) <= 6 {
			return s
		}
		return maskRun(s, 4)
	case isSenderName(s):
		return s
	}
	return "***"
}

// maskRun keeps up to keepFront leading digits and the last 2, and hides at
// least 4 behind "****", whatever their number.
func maskRun(digits string, keepFront int) string {
	const keepBack, minHidden = 2, 4
	n := len(digits)
	keepFront = min(keepFront, n-keepBack-minHidden)
	if keepFront < 0 {
		return "****"
	}
	return digits[:keepFront] + "****" + digits[n-keepBack:]
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isSenderName reports whether s looks like an alphanumeric originator: at
// most 11 characters, at least one letter, too few digits to hide a number.
func isSenderName(s string) bool {
	letters, digits, n := 0, 0, 0
	for _, r := range s {
		n++
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r):
			digits++
		}
	}
	return n <= 11 && letters > 0 && digits < 5
}

// countryCodeLen gives the length of the E.164 country code that digits start
// with: 1 and 7 are one digit, the ITU's two-digit codes are listed, all
// others are three digits.
func countryCodeLen(digits string) int {
	if digits == "" {
		return 0
	}
	switch digits[0] {
	case '1', '7':
		return 1
	}
	if len(digits) < 2 {
		return 1
	}
	switch digits[:2] {
	case "20", "27", "30", "31", "32", "33", "34", "36", "39",
		"40", "41", "43", "44", "45", "46", "47", "48", "49",
		"51", "52", "53", "54", "55", "56", "57", "58",
		"60", "61", "62", "63", "64", "65", "66",
		"81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98":
		return 2
	}
	return 3
}
