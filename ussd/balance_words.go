package ussd

import (
	"strings"
	"unicode"
)

// The words around an amount decide what it is: a rouble marker or another
// unit after it, words before it that name the balance or another sum.

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
