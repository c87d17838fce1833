package ussd

import (
	"strconv"
	"strings"
)

// Balance is what a balance reply says. Text is always the whole reply; when
// Parsed is false, Amount and Currency are zero and nothing was guessed.
type Balance struct {
	Amount   Amount
	Currency string
	Parsed   bool
	Text     string
	// Match is the part of Text the amount was read from, for logs and checks.
	Match string
}

// currencyRUB is the only currency Russian operators answer in; a clear
// balance keyword without a currency marker is read as roubles too.
const currencyRUB = "RUB"

// ParseBalance reads the balance from a reply with the generic rules only.
//
// Every number is found and classified. Numbers that are part of something
// else are dropped: dates, times, phone numbers, USSD codes, percentages,
// menu item numbers, quantities of minutes/SMS/megabytes, prices per day, and
// numbers glued to letters (Tele2, 4G). A number is a balance candidate when
// the words before it in the same sentence name the balance ("Баланс",
// "Balans", "Ostatok", "на счете") and none of them names another sum
// (limit, credit, bonus, payment, price, top-up). If there are such
// candidates and they agree, that is the balance, with or without a currency
// marker. Failing that, a number followed by a rouble marker (руб, р., r.,
// rub, RUR, ₽) and not preceded by another sum's name is taken when it is the
// only one. Anything else, including two different equally good candidates,
// is not parsed.
func ParseBalance(text string) Balance {
	b := Balance{Text: text}
	tokens := scanAmounts(text)
	var main, cur []amountToken
	for _, t := range tokens {
		switch {
		case t.excluded || t.role == roleOther:
			continue
		case t.role == roleBalance:
			main = append(main, t)
		case t.currency:
			cur = append(cur, t)
		}
	}
	pick := main
	if len(pick) == 0 {
		pick = cur
	}
	if t, ok := agreed(pick); ok {
		b.Amount, b.Currency, b.Parsed, b.Match = t.amount, currencyRUB, true, t.match
	}
	return b
}

// agreed returns the candidate when all candidates have the same amount.
func agreed(ts []amountToken) (amountToken, bool) {
	if len(ts) == 0 {
		return amountToken{}, false
	}
	for _, t := range ts[1:] {
		if t.amount != ts[0].amount {
			return amountToken{}, false
		}
	}
	return ts[0], true
}

type role int

const (
	roleNone    role = iota
	roleBalance      // the sentence before names the balance
	roleOther        // the sentence before names some other sum
)

type amountToken struct {
	amount Amount
	match  string // sign and number as written
	// start and end are rune offsets of the match in the text.
	start, end int
	neg        bool
	currency   bool
	excluded   bool
	role       role
}

// scanAmounts finds every number in text and classifies it.
func scanAmounts(text string) []amountToken {
	rs := []rune(text)
	var out []amountToken
	boundary := 0 // where the words describing the next number begin
	for i := 0; i < len(rs); {
		if !isDigit(rs[i]) {
			if endsClause(rs, i) {
				boundary = i + 1
			}
			i++
			continue
		}
		t, end := readNumber(rs, i)
		classify(rs, &t, boundary)
		out = append(out, t)
		if !t.excluded {
			boundary = end
		}
		i = end
	}
	return out
}

// readNumber reads the number starting at rs[start]: digits with optional
// thousands groups (space, no-break or thin space, or the punctuation mark
// that is not the decimal one) and one or two decimals after '.' or ','. A
// sequence that fits no amount (25.11.2026, 1,234 alone, 1.2.3) is returned
// excluded, consumed whole so that its pieces are not read as amounts.
func readNumber(rs []rune, start int) (amountToken, int) {
	runs := []string{digitRun(rs, start)}
	var seps []rune
	end := start + len([]rune(runs[0]))
	for end+1 < len(rs) && isDigit(rs[end+1]) {
		sep := rs[end]
		if !isGroupSpace(sep) && sep != '.' && sep != ',' {
			break
		}
		run := digitRun(rs, end+1)
		if isGroupSpace(sep) && len(run) != 3 {
			break
		}
		seps = append(seps, sep)
		runs = append(runs, run)
		end += 1 + len(run)
	}
	t := amountToken{start: start, end: end}
	whole, frac, ok := interpretNumber(runs, seps)
	if !ok {
		t.excluded = true
		return t, end
	}
	if start > 0 && isMinus(rs[start-1]) && (start == 1 || !isLetterOrDigit(rs[start-2])) {
		t.start = start - 1
	}
	t.neg = t.start < start || minusWordBefore(rs, start)
	t.amount = amountFromDigits(t.neg, whole, frac)
	t.match = string(rs[t.start:end])
	return t, end
}

// interpretNumber turns digit runs and their separators into whole and
// fractional digits, or reports that they are not an amount.
func interpretNumber(runs []string, seps []rune) (whole, frac string, ok bool) {
	intRuns, intSeps := runs, seps
	if n := len(seps); n > 0 && (seps[n-1] == '.' || seps[n-1] == ',') && len(runs[n]) <= 2 {
		frac = runs[n]
		intRuns, intSeps = runs[:n], seps[:n-1]
	}
	if len(intSeps) > 0 {
		if len(intRuns[0]) > 3 {
			return "", "", false
		}
		for i, sep := range intSeps {
			sameKind := isGroupSpace(sep) && isGroupSpace(intSeps[0]) || sep == intSeps[0]
			if !sameKind || len(intRuns[i+1]) != 3 {
				return "", "", false
			}
			if frac == "" && !isGroupSpace(sep) {
				return "", "", false // "1,234" or "1.234.567": thousands or decimals? unknowable
			}
			if frac != "" && sep == seps[len(seps)-1] {
				return "", "", false // "1.234.56"
			}
		}
	}
	whole = strings.Join(intRuns, "")
	if len(whole) > maxAmountDigits {
		return "", "", false
	}
	return whole, frac, true
}

// classify marks numbers that are not sums, reads the unit after the number,
// and the role given by the words before it, from boundary on.
func classify(rs []rune, t *amountToken, boundary int) {
	if t.excluded {
		return
	}
	start, end := t.start, t.end
	before := func(k int) rune { return runeAt(rs, start-k) }
	after := func(k int) rune { return runeAt(rs, end+k-1) }
	switch {
	case isLetterOrDigit(before(1)) || strings.ContainsRune("*#+/(№", before(1)):
		t.excluded = true // Tele2, E173, *100#, +7..., 1/2, (916), №5
	case strings.ContainsRune(".,:-–", before(1)) && isDigit(before(2)):
		t.excluded = true // the tail of a date, time, range or phone number
	case isGroupSpace(before(1)) && isDigit(before(2)):
		t.excluded = true // the tail of a spaced phone number
	case strings.ContainsRune("*#%", after(1)) || isLetterOrDigit(after(1)) && !startsCurrency(rs, end):
		t.excluded = true // *100*5#, 50%, 4G, 100MB
	case strings.ContainsRune(":/-–.,", after(1)) && isDigit(after(2)):
		t.excluded = true // the head of a time, date, range or phone number
	case isGroupSpace(after(1)) && isDigit(after(2)):
		t.excluded = true // the head of a spaced phone number
	case isMenuNumber(rs, start, end):
		t.excluded = true
	case countDigits(t.match) >= 8 && !strings.ContainsAny(t.match, ".,"):
		t.excluded = true // 8+ digits and no decimals: a number to call, not roubles
	}
	if t.excluded {
		return
	}
	unitStart := skipSpaces(rs, end)
	switch unitKind(rs, unitStart) {
	case unitRouble:
		t.currency = true
		if isRate(rs, unitStart) {
			t.excluded = true
			return
		}
		addKopecks(rs, t, unitStart)
	case unitOther:
		t.excluded = true
		return
	}
	phrase := describingWords(rs, boundary, t.start)
	switch {
	case hasAnyStem(phrase, otherStems) || lastWordIn(phrase, priceWords):
		t.role = roleOther
	case hasAnyStem(phrase, balanceStems):
		t.role = roleBalance
	}
}

// addKopecks completes "151 руб. 25 коп." to 151.25. The kopeck number is
// scanned again later and dropped as a quantity of kopecks.
func addKopecks(rs []rune, t *amountToken, unitStart int) {
	if strings.ContainsAny(t.match, ".,") {
		return
	}
	j := unitStart + len([]rune(wordAt(rs, unitStart)))
	if runeAt(rs, j) == '.' {
		j++
	}
	j = skipSpaces(rs, j)
	kop := digitRun(rs, j)
	if kop == "" || len(kop) > 2 {
		return
	}
	w := strings.ToLower(wordAt(rs, skipSpaces(rs, j+len(kop))))
	if !strings.HasPrefix(w, "коп") && !strings.HasPrefix(w, "kop") {
		return
	}
	k, _ := strconv.ParseInt(kop, 10, 64) // one or two digits
	if t.neg {
		k = -k
	}
	t.amount = AmountFromKopecks(t.amount.kopecks + k)
	t.end = j + len(kop)
	t.match = string(rs[t.start:t.end])
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if isDigit(r) {
			n++
		}
	}
	return n
}
