package ussd

import (
	"regexp"
	"unicode/utf8"
)

// ParseBalance reads the balance with the profile's patterns first, then the
// generic rules. A pattern match is ignored when the generic rules see that
// number as part of something else, so a loose pattern cannot take "Бонусный
// баланс: 50" or a date. A pattern that matches two different amounts ends
// the search unparsed: it found two equally good answers.
func (p Profile) ParseBalance(text string) Balance {
	tokens := scanAmounts(text)
	for _, re := range p.balanceRegexps() {
		amountIdx := re.SubexpIndex("amount")
		if amountIdx < 0 {
			continue
		}
		var found []amountToken
		for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
			if t, ok := patternAmount(re, text, m, amountIdx, tokens); ok {
				found = append(found, t)
			}
		}
		if len(found) == 0 {
			continue
		}
		if t, ok := agreed(found); ok {
			return Balance{Amount: t.amount, Currency: currencyRUB, Parsed: true, Text: text, Match: t.match}
		}
		return Balance{Text: text}
	}
	return ParseBalance(text)
}

// patternAmount reads the amount a pattern captured, with the sign groups,
// and checks it against the generic reading of the same number.
func patternAmount(re *regexp.Regexp, text string, m []int, amountIdx int, tokens []amountToken) (amountToken, bool) {
	from, to := m[2*amountIdx], m[2*amountIdx+1]
	if from < 0 {
		return amountToken{}, false
	}
	captured := []rune(text[from:to])
	digitStart := 0
	if len(captured) > 0 && isMinus(captured[0]) {
		digitStart = 1
	}
	if digitStart >= len(captured) || !isDigit(captured[digitStart]) {
		return amountToken{}, false
	}
	t, end := readNumber(captured, digitStart)
	if t.excluded || end != len(captured) {
		return amountToken{}, false
	}
	if !t.neg && signMatched(re, m) {
		t.neg = true
		t.amount = AmountFromKopecks(-t.amount.Kopecks())
	}

	start := utf8.RuneCountInString(text[:from]) + digitStart
	for _, g := range tokens {
		if start < g.start || start >= g.end {
			continue
		}
		if g.excluded || g.role == roleOther {
			return amountToken{}, false
		}
		if g.end > start+len(captured)-digitStart && g.currency {
			// The generic reading went on to "25 коп."; take its total.
			if t.neg != g.neg {
				return amountToken{}, false
			}
			return g, true
		}
		return t, true
	}
	return amountToken{}, false
}

func signMatched(re *regexp.Regexp, m []int) bool {
	for _, name := range []string{"sign", "minus"} {
		if i := re.SubexpIndex(name); i >= 0 && m[2*i+1] > m[2*i] {
			return true
		}
	}
	return false
}

// balanceRegexps returns the compiled balance patterns. A Profile that did not
// come through NewProfiles compiles them here and skips invalid ones, which
// NewProfiles would have reported.
func (p Profile) balanceRegexps() []*regexp.Regexp {
	if p.balanceRE != nil {
		return p.balanceRE
	}
	return compileValid(p.BalancePatterns)
}

func (p Profile) bySMSRegexps() []*regexp.Regexp {
	if p.bySMSRE != nil {
		return p.bySMSRE
	}
	return compileValid(p.BySMSPatterns)
}

func compileValid(patterns []string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, pat := range patterns {
		if re, err := regexp.Compile(pat); err == nil {
			out = append(out, re)
		}
	}
	return out
}

// genericBySMS match the usual ways of saying "the answer comes by SMS", in
// Cyrillic and transliterated Latin.
var genericBySMS = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(ожида|при[дш][её]т|будет\s+(отправлен|направлен)|получите|направим|отправим|ozhida|pridet|prid[eyj]ot|budet\s+(otpravlen|napravlen)|poluchite|napravim|otpravim)[^.!?]{0,60}(sms|смс|сообщени|soobsh|soobshh)`),
	regexp.MustCompile(`(?i)(sms|смс|сообщени|soobsh)[^.!?]{0,40}(при[дш][её]т|будет\s+(отправлен|направлен)|pridet|budet\s+(otpravlen|napravlen))`),
	regexp.MustCompile(`(?i)you\s+will\s+(receive|get)\s+(an?\s+)?(sms|message)`),
}

// BalanceComesBySMS reports whether the reply says the balance will arrive
// as an SMS instead: the profile's own patterns, which say so for certain,
// then the generic ones, but only for a reply without an amount: an SMS
// that a reply with an amount mentions is an advert's.
func (p Profile) BalanceComesBySMS(text string) bool {
	for _, re := range p.bySMSRegexps() {
		if re.MatchString(text) {
			return true
		}
	}
	if p.ParseBalance(text).Parsed {
		return false
	}
	for _, re := range genericBySMS {
		if re.MatchString(text) {
			return true
		}
	}
	return false
}
