package ussd

import (
	"testing"
)

// notParsed marks a case where no amount may be read.
const notParsed = "none"

// balanceCases are replies as operators send them, in Cyrillic and in
// transliterated Latin, with what must be read from them.
var balanceCases = []struct {
	name, text, want string
}{
	// The shapes the brief lists.
	{"MTS classic", "Баланс: 151,25 руб.", "151.25"},
	{"Latin negative", "Balance -12.30 r.", "-12.30"},
	{"space thousands", "Ваш баланс 1 234,56 руб.", "1234.56"},
	{"nbsp thousands", "Ваш баланс 1\u00a0234,56 руб.", "1234.56"},
	{"thin space thousands", "Ваш баланс 1\u2009234,56 руб.", "1234.56"},
	{"narrow nbsp thousands", "Ваш баланс 12\u202f345,00\u00a0₽", "12345.00"},
	{"Minus word Latin", "Minus 5 r.", "-5.00"},
	{"Минус word", "Минус 5 руб", "-5.00"},
	{"MTS Минус with colon", "Минус:12,30р", "-12.30"},
	{"glued Latin", "Balans:151.25r", "151.25"},
	{"zero glued р.", "Баланс 0,00р.", "0.00"},
	{"negative with thousands, no keyword", "-1 234.50 руб", "-1234.50"},
	{"Ostatok one decimal", "Ostatok: 120.5 rub", "120.50"},
	{"Tele2 balance and limit", "Balance:92,40r,Limit:0,01r", "92.40"},
	{"Tele2 look-alike Latin", "OCTATOK 187.24 p.", "187.24"},
	{"by SMS", "Запрос принят, ожидайте SMS", notParsed},

	// Amount after other text.
	{"after greeting", "Уважаемый абонент! Ваш баланс составляет 350,00 руб.", "350.00"},
	{"Beeline Latin with ad", " Vash balans 968.98 r.\nDlya vas - nedelya besplatnogo SMS-obsh'eniya s drugom! Podkl.: *320#", "968.98"},
	{"Beeline osnovnoj", "Osnovnoj balans 45.10 r. Bonusnyj balans 20 r.", "45.10"},
	{"na schetu", "Na vashem schete 77,70 rub.", "77.70"},
	{"на счете", "На счете 1 000 р.", "1000.00"},
	{"ruble sign", "Баланс 250 ₽", "250.00"},
	{"RUR", "Balance: 15.00 RUR", "15.00"},
	{"рублей word", "Ваш баланс 300 рублей 00 копеек", "300.00"},
	{"rubles and kopecks", "Баланс 151 руб. 25 коп.", "151.25"},
	{"minus rubles and kopecks", "Баланс: минус 0 руб. 50 коп.", "-0.50"},
	{"keyword, no currency", "Баланс: 42,17", "42.17"},
	{"keyword on its own line", "Ваш баланс:\n151,25 руб.", "151.25"},
	{"unicode minus", "Баланс: −12,30 р.", "-12.30"},
	{"non-breaking hyphen", "Баланс: \u201112,30 р.", "-12.30"},
	{"full-width hyphen-minus", "Баланс: \uFF0D12,30 р.", "-12.30"},
	{"en dash minus", "Баланс: –7,00 руб.", "-7.00"},
	{"keyword with minus word", "Баланс: минус 15,5 руб. Пополните счёт", "-15.50"},

	// Advertising and menus after the amount.
	{"percent ad", "Баланс: 151,25 руб. Скидка 50% на звонки: *123#", "151.25"},
	{"price per day ad", "Баланс 73,40р. Гудок за 3 руб/сут, подключить *111*29#", "73.40"},
	{"phone in ad", "Баланс: 10,00 р. Вопросы: 8 800 250 0890", "10.00"},
	{"phone with plus", "Balance 5.55 r. Info +7 (916) 123-45-67", "5.55"},
	{"date in text", "Баланс на 25.11.2026: 512,00 руб.", "512.00"},
	{"short date after на", "Баланс на 25.11 составил 99 руб", "99.00"},
	{"date and time", "Баланс по состоянию на 01.12.2026 12:00: 151,25 руб", "151.25"},
	{"menu below", "Баланс: 20,00 руб.\n1. Подключить\n2. Отключить\n3. Тарифы", "20.00"},
	{"menu with >", "Balans 3.00 r\n1>Tarify\n2>Uslugi\n0>Vyhod", "3.00"},
	{"packet quantities", "Баланс: 310,00 руб. Остаток пакета: 200 мин, 100 SMS, 5 ГБ", "310.00"},
	{"Tele2 brand digit", "Tele2: Баланс 12,00 р. Подключите Tele2 Music", "12.00"},
	{"top-up advice", "Balance: -3.20 r. Popolnite na 100 r", "-3.20"},
	{"promised payment", "Баланс -50,00 руб. Обещанный платеж 100 руб: *106#", "-50.00"},
	{"bonus balance with same keyword", "Основной баланс: 88,00 р.\nБонусный баланс: 150 р.", "88.00"},
	{"multi-line", "Баланс\n12,34 руб\nСпасибо, что вы с нами", "12.34"},

	// Never a guess.
	{"no amount at all", "Сервис временно недоступен", notParsed},
	{"only an ad price", "Подключите Гудок за 3 руб/сут", notParsed},
	{"only a percent", "Скидка 50% на все звонки!", notParsed},
	{"two balances disagree", "Баланс: 100 р. Баланс: 200 р.", notParsed},
	{"two rouble sums, no keyword", "Вы получили 50 р. Вы отправили 20 р.", notParsed},
	{"remaining after a credited sum", "Начислено 50 р. Осталось 20 р.", "20.00"},
	{"two plain rouble sums", "100 руб. 200 руб.", notParsed},
	{"balance only of minutes", "Баланс: 300 мин", notParsed},
	{"foreign currency", "Balance: 9.91 EUR", notParsed},
	{"ambiguous thousands", "Баланс: 1,234 руб", notParsed},
	{"a phone number only", "Ваш номер 79161234567", notParsed},
	{"code only", "Наберите *100# для проверки", notParsed},
	{"limit only", "Limit:0,01r", notParsed},
	{"menu only", "1. Баланс\n2. Пакеты", notParsed},
	{"date only", "Баланс на 25.11.2026", notParsed},
	{"Latin by SMS", "Vash zapros prinyat. Ozhidajte SMS", notParsed},
	{"empty", "", notParsed},
}

func TestParseBalanceGeneric(t *testing.T) {
	for _, tt := range balanceCases {
		t.Run(tt.name, func(t *testing.T) {
			checkBalance(t, ParseBalance(tt.text), tt.text, tt.want)
		})
	}
}

// Every default profile must read the same cases the same way: its patterns
// may only add operator wordings, never take a number the generic rules drop.
func TestParseBalanceProfiles(t *testing.T) {
	for _, prof := range mustDefaultProfiles(t) {
		for _, tt := range balanceCases {
			t.Run(prof.Name+"/"+tt.name, func(t *testing.T) {
				checkBalance(t, prof.ParseBalance(tt.text), tt.text, tt.want)
			})
		}
	}
}

func checkBalance(t *testing.T, got Balance, text, want string) {
	t.Helper()
	if got.Text != text {
		t.Errorf("Text = %q, want the reply itself", got.Text)
	}
	if want == notParsed {
		if got.Parsed {
			t.Errorf("ParseBalance(%q) parsed %s from %q, want not parsed", text, got.Amount, got.Match)
		}
		return
	}
	if !got.Parsed || got.Amount.String() != want || got.Currency != "RUB" {
		t.Errorf("ParseBalance(%q) = %s %s parsed=%v (match %q), want %s RUB", text, got.Amount, got.Currency, got.Parsed, got.Match, want)
	}
}

func mustDefaultProfiles(t testing.TB) []Profile {
	t.Helper()
	ps, err := NewProfiles(DefaultProfiles())
	if err != nil {
		t.Fatal(err)
	}
	return ps.list
}

func TestProfilePatternOnly(t *testing.T) {
	prof := Profile{
		Name: "Test", PLMN: []string{"25001"}, BalanceCode: "*100#",
		BalancePatterns: []string{`(?i)Sostoyanie scheta\s*(?P<sign>\(-\))?\s*(?P<amount>\d+(?:[.,]\d{1,2})?)`},
	}
	tests := []struct{ text, want string }{
		// No keyword or currency the generic rules know: only the pattern reads it.
		{"Sostoyanie scheta 41.20", "41.20"},
		{"Sostoyanie scheta (-) 41.20", "-41.20"},
		// The pattern matches twice with different amounts: not parsed.
		{"Sostoyanie scheta 41.20; Sostoyanie scheta 1.00", notParsed},
		// The pattern matches a date's head: the generic rules veto it.
		{"Sostoyanie scheta 25.11.2026", notParsed},
	}
	for _, tt := range tests {
		checkBalance(t, prof.ParseBalance(tt.text), tt.text, tt.want)
	}
	if ParseBalance(tests[0].text).Parsed {
		t.Error("generic parser read the operator-only wording; the test proves nothing")
	}
}

func TestBalanceComesBySMS(t *testing.T) {
	prof := mustDefaultProfiles(t)[0]
	custom := Profile{BySMSPatterns: []string{`(?i)^ZAPROS PRINYAT$`}}
	tests := []struct {
		prof Profile
		text string
		want bool
	}{
		{prof, "Запрос принят, ожидайте SMS", true},
		{prof, "Ваш запрос принят. Информация будет направлена в SMS-сообщении", true},
		{prof, "Ответ придет в SMS", true},
		{prof, "Vash zapros prinyat. Ozhidajte SMS", true},
		{prof, "Informaciya budet otpravlena v SMS", true},
		{prof, "Your request is accepted. You will receive an SMS", true},
		{prof, "Баланс: 151,25 руб.", false},
		{prof, "Подключите 100 SMS за 50 руб", false},
		{prof, "Ваш баланс 151,25 руб. Ожидайте SMS с деталями акции", false}, // the amount is here
		{prof, "ZAPROS PRINYAT", false},
		{custom, "ZAPROS PRINYAT", true},
	}
	for _, tt := range tests {
		if got := tt.prof.BalanceComesBySMS(tt.text); got != tt.want {
			t.Errorf("%s: BalanceComesBySMS(%q) = %v, want %v", tt.prof.Name, tt.text, got, tt.want)
		}
	}
}
