package sms

import (
	"strings"
	"testing"
)

func BenchmarkEncodeSubmit(b *testing.B) {
	cases := []struct {
		name string
		text string
	}{
		{"single GSM7", "Payment of 1500.00 RUB received. Thank you!"},
		{"single UCS2", "Платёж 1500,00 ₽ получен. Спасибо!"},
		{"300-char UCS2 multipart", string([]rune(strings.Repeat("Оплата заказа получена, спасибо! ", 10))[:300])},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := EncodeSubmit("+79161234567", c.text, SubmitOptions{ConcatRef: 42, StatusReport: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeDeliver(b *testing.B) {
	cases := []struct{ name, pdu string }{
		{"GSM7 alphanumeric", pduTele2},
		{"UCS2 Cyrillic", pduMTSCyrillic},
		{"UCS2 concatenated part", pduCyrillic1},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeDeliver(c.pdu); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
