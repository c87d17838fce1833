package payment

import (
	"errors"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/ussd"
)

func TestParseAmount(t *testing.T) {
	for s, want := range map[string]string{"1500": "1500.00", "0.01": "0.01", "999999.99": "999999.99", "12.5": "12.50"} {
		a, err := ParseAmount(s)
		if err != nil || a.String() != want {
			t.Errorf("%q: %v %v, want %s", s, a, err, want)
		}
	}
	for _, s := range []string{"", "0", "0.00", "-1", "1.001", "1e3", "1,5", "1000000.00", "abc"} {
		_, err := ParseAmount(s)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "amount" {
			t.Errorf("%q: %v, want a field error on amount", s, err)
		}
	}
}

func TestCheckTemplate(t *testing.T) {
	for text, ok := range map[string]bool{
		"Pay {txn} {amount}":            true,
		"{amount} за {txn}, 0 - отмена": true,
		"Pay {txn}":                     false,
		"Pay {amount}":                  false,
		"Pay {txn} {amount} {name}":     false,
		"Pay {txn} {amount} {}":         false,
		"Pay {txn} {amount} {TXN}":      false,
	} {
		err := CheckTemplate(text)
		var fe *FieldError
		if ok != (err == nil) || (err != nil && (!errors.As(err, &fe) || fe.Field != "text")) {
			t.Errorf("%q: %v", text, err)
		}
	}
}

func TestFillTemplate(t *testing.T) {
	got := FillTemplate("Платёж {txn}: {amount} ({txn})", "A-1", ussd.AmountFromKopecks(150000))
	if want := "Платёж A-1: 1 500,00 руб. (A-1)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

func TestFormatRoubles(t *testing.T) {
	cases := map[int64]string{
		1: "0,01 руб.", 100: "1,00 руб.", 99999: "999,99 руб.", 100000: "1 000,00 руб.",
		150000: "1 500,00 руб.", 99999999: "999 999,99 руб.", 123456789012: "1 234 567 890,12 руб.",
		-150000: "-1 500,00 руб.",
	}
	for k, want := range cases {
		if got := FormatRoubles(ussd.AmountFromKopecks(k)); got != want {
			t.Errorf("%d kopecks: %q, want %q", k, got, want)
		}
	}
}

// TestFingerprintIsPinned: fingerprints are stored and compared with new
// ones when an id is repeated, so their encoding may never change. The
// values were computed by the code this replaced.
func TestFingerprintIsPinned(t *testing.T) {
	cases := []struct {
		r    Request
		want string
	}{
		{Request{Phone: "+79161234567", Txn: "12345", Amount: ussd.AmountFromKopecks(150000), Currency: "RUB", CustomerOperator: "25001"},
			"f48786456400a2453ef12a823928447ef300a13d448f598fe3dea83d8ce70c34"},
		{Request{Phone: "+79161234567", Txn: "A-1", Amount: ussd.AmountFromKopecks(1), Currency: "RUB", Template: "Pay {txn} {amount}", TTL: 45 * time.Minute},
			"6e8cc510340b079cbcdd17d90cea999193f79b557760c27a7457e17dec1a9251"},
	}
	for _, c := range cases {
		if got := Fingerprint(c.r); got != c.want {
			t.Errorf("%+v: %s, want %s", c.r, got, c.want)
		}
	}
	a := cases[0].r
	for _, change := range []func(*Request){
		func(r *Request) { r.Phone = "+79161234568" }, func(r *Request) { r.Txn = "12346" },
		func(r *Request) { r.Amount = ussd.AmountFromKopecks(150001) }, func(r *Request) { r.Template = "x {txn} {amount}" },
		func(r *Request) { r.CustomerOperator = "" }, func(r *Request) { r.TTL = time.Minute },
	} {
		b := a
		change(&b)
		if Fingerprint(b) == Fingerprint(a) {
			t.Errorf("%+v and %+v share a fingerprint", a, b)
		}
	}
}
