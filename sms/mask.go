package sms

import (
	"regexp"
	"strings"
	"unicode"
)

// One masking rule for phone numbers, ICCIDs and IMSIs, wherever gsmbridge
// logs or shows them. A masked run of digits keeps a few leading digits (the
// country and operator of a number, the issuer of an ICCID), the last 2, and
// puts "****" in place of the rest, however long: the length stays hidden
// too, and at least 4 digits are always hidden, so a short run keeps fewer
// leading digits, down to none.
//
// It is the one rule: atcmd's wire traces and modemsim's errors call it too,
// and TestMaskRulesAgree holds it to testdata/mask_rules.txt.

const (
	hidden        = "****"
	minHidden     = 4
	keepBack      = 2
	keepFrontRuns = 4
	// shortCode is the longest digit string taken for a service short code
	// ("900", "0611") rather than a subscriber's number.
	shortCode = 6
)

// MaskNumber hides the subscriber part of a number for logs.
//
// E.164 numbers keep "+", the country code and 3 more digits, and the last 2
// ("+79161234567" → "+7916****67"). Digit strings of up to 6 digits are
// service short codes ("900", "0611") and stay as they are, as do
// alphanumeric sender names of up to 11 characters with at most 4 digits
// ("MTS", "Tele2"): both name a service, not a person. Longer digit strings
// keep at most 4 leading and 2 trailing digits; anything else becomes "***".
func MaskNumber(s string) string {
	switch {
	case s == "":
		return ""
	case s[0] == '+' && allDigits(s[1:]):
		digits := s[1:]
		return "+" + maskRun(digits, countryCodeLen(digits)+3)
	case allDigits(s):
		if len(s) <= shortCode {
			return s
		}
		return maskRun(s, keepFrontRuns)
	case isSenderName(s):
		return s
	}
	return "***"
}

// MaskDigits hides an ICCID or IMSI (or an IMEI) for logs and the status
// page: "89701010000000000001" → "8970****01". Unlike a number, a short run
// is not a short code and is masked too. A key made of a word and the
// digits ("imsi:250011234567890") keeps its word; anything else with digits
// becomes "***".
func MaskDigits(s string) string {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	prefix, digits := s[:i], s[i:]
	switch {
	case s == "":
		return ""
	case digits == "" || strings.ContainsAny(prefix, "0123456789"):
		return "***"
	}
	return prefix + maskRun(digits, keepFrontRuns)
}

// numberRun finds what may be a phone number inside free text: error texts
// come from modems, the network and other features, and any of them may
// quote a recipient.
var numberRun = regexp.MustCompile(`\+?\d{7,}`)

// MaskNumbersIn masks every run of 7 or more digits in free text (an error
// text, a modem's reason) with MaskNumber, with or without a leading "+".
func MaskNumbersIn(text string) string {
	return numberRun.ReplaceAllStringFunc(text, MaskNumber)
}

// maskRun keeps up to keepFront leading digits and the last 2, and hides at
// least 4.
func maskRun(digits string, keepFront int) string {
	n := len(digits)
	keepFront = min(keepFront, n-keepBack-minHidden)
	if keepFront < 0 {
		return hidden
	}
	return digits[:keepFront] + hidden + digits[n-keepBack:]
}

// isSenderName reports whether s looks like an alphanumeric originator: at
// most 11 characters (the 23.040 limit for TON 5 addresses), at least one
// letter, and too few digits to hide a phone number.
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
