package ussd

import (
	"strconv"
	"strings"
	"unicode"
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

type unit int

const (
	unitNone unit = iota
	unitRouble
	unitOther
)

var (
	roubleWords = []string{"руб", "рублей", "рубля", "рубль", "р", "rub", "rubl", "rublej", "rublya", "rur", "r"}
	// otherUnits are quantities and foreign money, never a rouble balance.
	otherUnitStems = []string{"мин", "min", "sms", "смс", "мб", "mb", "гб", "gb", "кб", "kb", "шт", "sht",
		"балл", "ball", "бонус", "bonus", "дн", "day", "den", "мес", "mes", "сек", "sek", "час", "chas",
		"usd", "eur", "kzt", "uah", "byn", "грн", "тг", "тенге", "коп", "kop", "%", "$", "€"}
	// balanceStems name the main balance.
	balanceStems = []string{"баланс", "balans", "balance", "остаток", "ostatok", "octatok",
		"на счет", "на счёт", "na schet", "na schyot", "на вашем счет", "na vashem schet"}
	// otherStems name sums that are not the balance; they win over balanceStems
	// so "бонусный баланс" and "Limit" are not read as the balance.
	otherStems = []string{"лимит", "limit", "кредит", "kredit", "credit", "бонус", "bonus", "балл", "ball",
		"обещан", "obeshan", "obeshchan", "платеж", "платёж", "platezh", "platej", "оплат", "oplat",
		"абон", "abon", "стоимост", "stoimost", "цена", "cena", "скидк", "skidk", "пополн", "popoln",
		"списан", "spisan", "начисл", "nachisl", "кешбэк", "кэшбэк", "cashback", "минут", "minut",
		"пакет", "paket", "трафик", "trafik", "интернет", "internet", "sms", "смс", "долг", "dolg",
		"перевод", "perevod", "комисси", "komissi", "выигр", "приз", "priz"}
	// priceWords right before a number make it a price or a date, not a balance.
	priceWords = []string{"за", "za", "от", "ot", "до", "do", "всего", "vsego", "на", "na", "по", "po", "с", "s"}
)

// unitKind reads the word at rs[i]: rouble marker, other unit, or none.
func unitKind(rs []rune, i int) unit {
	if i >= len(rs) {
		return unitNone
	}
	switch rs[i] {
	case '₽':
		return unitRouble
	case '%', '$', '€':
		return unitOther
	}
	w := strings.ToLower(wordAt(rs, i))
	if w == "" {
		return unitNone
	}
	for _, rw := range roubleWords {
		if w == rw {
			return unitRouble
		}
	}
	// Latin "p." is the rouble sign in Cyrillic look-alike Latin (Tele2).
	if w == "p" && runeAt(rs, i+1) == '.' {
		return unitRouble
	}
	for _, stem := range otherUnitStems {
		if strings.HasPrefix(w, stem) {
			return unitOther
		}
	}
	return unitNone
}

// startsCurrency reports whether a rouble marker is glued to the number
// ("151.25r", "0,00р.").
func startsCurrency(rs []rune, i int) bool { return unitKind(rs, i) == unitRouble }

// isRate reports whether the rouble marker at i is a price per period:
// "3 руб/сут", "5 р. в день", "60 r/mes".
func isRate(rs []rune, i int) bool {
	j := i + len([]rune(wordAt(rs, i)))
	if runeAt(rs, j) == '.' {
		j++
	}
	if runeAt(rs, j) == '/' {
		return true
	}
	rest := strings.ToLower(string(rs[skipSpaces(rs, j):min(len(rs), j+16)]))
	for _, p := range []string{"в день", "в сутки", "в мес", "в недел", "за день", "за сутки", "в час", "v den", "v sutki", "v mes", "per day", "a day"} {
		if strings.HasPrefix(rest, p) {
			return true
		}
	}
	return false
}

// isMenuNumber reports "1. Подключить", "2) Tarify", "3>Баланс", "4 - Выход":
// a number alone at the start of a line, followed by a menu mark and text.
func isMenuNumber(rs []rune, start, end int) bool {
	i := start - 1
	for i >= 0 && isGroupSpace(rs[i]) {
		i--
	}
	if i >= 0 && rs[i] != '\n' && rs[i] != '\r' {
		return false
	}
	j := skipSpaces(rs, end)
	if !strings.ContainsRune(".)>-–:", runeAt(rs, j)) {
		return false
	}
	return unicode.IsLetter(runeAt(rs, skipSpaces(rs, j+1)))
}

// minusWordBefore reports "Минус 5", "Minus: 5".
func minusWordBefore(rs []rune, start int) bool {
	i := start
	for i > 0 && (isGroupSpace(rs[i-1]) || rs[i-1] == ':') {
		i--
	}
	w := strings.ToLower(wordEndingAt(rs, i))
	return w == "минус" || w == "minus"
}

// describingWords returns the lowercased text between the boundary and the
// number, at most the last 40 runes: the words that say what the number is.
func describingWords(rs []rune, boundary, start int) string {
	from := max(boundary, start-40)
	return strings.ToLower(string(rs[from:start]))
}

func hasAnyStem(s string, stems []string) bool {
	for _, stem := range stems {
		if strings.Contains(s, stem) {
			return true
		}
	}
	return false
}

// lastWordIn reports whether s ends, but for spaces and a colon, with one of
// words, a minus word aside.
func lastWordIn(s string, words []string) bool {
	s = strings.TrimRight(s, " :\u00a0\u2009\u202f")
	if s == "" || !unicode.IsLetter([]rune(s)[len([]rune(s))-1]) {
		return false
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if n := len(fields); n > 0 && (fields[n-1] == "минус" || fields[n-1] == "minus") {
		fields = fields[:n-1]
	}
	if len(fields) == 0 {
		return false
	}
	for _, w := range words {
		if fields[len(fields)-1] == w {
			return true
		}
	}
	return false
}

// endsClause reports whether rs[i] ends the words describing the next
// number: a line break (unless the line ends in ':' so the number follows on
// the next line), or '.', '!', '?', ';' before a space.
func endsClause(rs []rune, i int) bool {
	switch rs[i] {
	case '\n', '\r':
		j := i - 1
		for j >= 0 && (isGroupSpace(rs[j]) || rs[j] == '\r') {
			j--
		}
		return j < 0 || rs[j] != ':'
	case '.', '!', '?', ';':
		next := runeAt(rs, i+1)
		return next == 0 || unicode.IsSpace(next)
	}
	return false
}

func digitRun(rs []rune, i int) string {
	j := i
	for j < len(rs) && isDigit(rs[j]) {
		j++
	}
	return string(rs[i:j])
}

func wordAt(rs []rune, i int) string {
	j := i
	for j < len(rs) && unicode.IsLetter(rs[j]) {
		j++
	}
	return string(rs[i:j])
}

func wordEndingAt(rs []rune, end int) string {
	i := end
	for i > 0 && unicode.IsLetter(rs[i-1]) {
		i--
	}
	return string(rs[i:end])
}

func skipSpaces(rs []rune, i int) int {
	for i < len(rs) && isGroupSpace(rs[i]) {
		i++
	}
	return i
}

// runeAt returns rs[i], or 0 outside the text.
func runeAt(rs []rune, i int) rune {
	if i < 0 || i >= len(rs) {
		return 0
	}
	return rs[i]
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func isLetterOrDigit(r rune) bool { return isDigit(r) || unicode.IsLetter(r) }

// isGroupSpace covers the spaces operators put between thousands.
func isGroupSpace(r rune) bool {
	return r == ' ' || r == '\u00a0' || r == '\u2009' || r == '\u202f' || r == '\u2007'
}

// isMinus: the ASCII hyphen-minus, the minus sign, and the dashes and
// hyphens that text converters put in its place (en dash, hyphen,
// non-breaking hyphen, figure dash, small and full-width hyphen-minus).
func isMinus(r rune) bool {
	switch r {
	case '-', '\u2212', '\u2013', '\u2010', '\u2011', '\u2012', '\uFE63', '\uFF0D':
		return true
	}
	return false
}
