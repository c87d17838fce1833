package atcmd

import "regexp"

// This is a private copy of the masking rule of sms (sms/mask.go), so that
// atcmd stays a leaf; TestMaskRulesAgree holds it to the same table
// (sms/testdata/mask_rules.txt). Change both or neither.

var numberRe = regexp.MustCompile(`\+?[0-9]{7,}`)

// MaskNumbers hides every run of 7 or more digits (phone numbers, also
// IMSI/ICCID) as sms.MaskNumbersIn does: "+79161234567" becomes
// "+7916****67", "250011234567890" becomes "2500****90".
func MaskNumbers(s string) string {
	return numberRe.ReplaceAllStringFunc(s, func(m string) string {
		if m[0] == '+' {
			return "+" + maskRun(m[1:], countryCodeLen(m[1:])+3)
		}
		return maskRun(m, 4)
	})
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
