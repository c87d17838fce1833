package payment

import (
	"strings"
	"testing"
	"time"
	"unicode"
)

func TestReadReply(t *testing.T) {
	words := []string{"0", "Нет", " stop\u00a0"}
	cases := []struct {
		text    string
		want    State
		decided bool
	}{
		{"Да", Confirmed, true},
		{"ok", Confirmed, true},
		{"0", Cancelled, true},
		{" 0\n", Cancelled, true},
		{"\u00a00\u2003", Cancelled, true}, // no-break and em space
		{"\t0\u3000", Cancelled, true},     // ideographic space
		{"нет", Cancelled, true},
		{"НЕТ", Cancelled, true},
		{"\u2003нЕт\r\n", Cancelled, true},
		{"STOP", Cancelled, true}, // the cancel word is trimmed too
		{"00", Confirmed, true},
		{"０", Confirmed, true}, // fullwidth zero is not the word
		{"0 рублей", Confirmed, true},
		{"0\u200b", Confirmed, true}, // a zero-width space is no space
		{"", "", false},
		{" \u2003\u00a0\n", "", false},
	}
	for _, c := range cases {
		got, decided := ReadReply(c.text, words)
		if got != c.want || decided != c.decided {
			t.Errorf("ReadReply(%q) = %q %v, want %q %v", c.text, got, decided, c.want, c.decided)
		}
	}
	if got, _ := ReadReply("0", nil); got != Confirmed {
		t.Errorf("without cancel words %q, want confirmed", got)
	}
}

// FuzzReadReply: whatever a customer types, a reply is undecided exactly
// when it is blank, cancels exactly when it is a cancel word give or take
// spaces and case, and confirms otherwise.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"Да", "0", " 0\n", "\u00a0нет", "НЕТ", "", " \u2003", "0 рублей", "00", "０", "ok\x00", "\xff\xfe"} {
		f.Add(s)
	}
	words := []string{"0", "нет"}
	f.Fuzz(func(t *testing.T, text string) {
		state, decided := ReadReply(text, words)
		trimmed := strings.TrimFunc(text, unicode.IsSpace)
		switch {
		case trimmed == "":
			if decided {
				t.Fatalf("blank %q decided %s", text, state)
			}
		case trimmed == "0" || strings.EqualFold(trimmed, "нет"):
			if state != Cancelled {
				t.Fatalf("%q: %s, want cancelled", text, state)
			}
		default:
			if state != Confirmed {
				t.Fatalf("%q: %s, want confirmed", text, state)
			}
		}
	})
}

func TestReplyWindowAllowsTheClockSkewOnly(t *testing.T) {
	sent := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	expires := sent.Add(30 * time.Minute)
	received := sent.Add(time.Hour)
	// answers reports whether a confirmation sent at sent and expiring at
	// expires matches the window, as the store's query asks.
	answers := func(scts time.Time) bool {
		sentBy, expiresAfter := ReplyWindow(scts, received)
		return !sent.After(sentBy) && expires.After(expiresAfter)
	}
	cases := []struct {
		name string
		scts time.Time
		want bool
	}{
		{"right after the send", sent.Add(time.Second), true},
		{"SMSC clock behind by the whole skew", sent.Add(-ReplyClockSkew), true},
		{"a second beyond the skew", sent.Add(-ReplyClockSkew - time.Second), false},
		{"just before the deadline", expires.Add(-time.Second), true},
		{"at the deadline", expires, false},
		{"after it", expires.Add(time.Minute), false},
	}
	for _, c := range cases {
		if got := answers(c.scts); got != c.want {
			t.Errorf("%s: answers %v, want %v", c.name, got, c.want)
		}
	}
	// Without an SCTS the time of receipt counts: here after the deadline.
	if answers(time.Time{}) {
		t.Error("a reply without SCTS received after the deadline answers")
	}
	sentBy, expiresAfter := ReplyWindow(time.Time{}, sent)
	if !expiresAfter.Equal(sent) || !sentBy.Equal(sent.Add(ReplyClockSkew)) {
		t.Errorf("no SCTS: window %v %v", sentBy, expiresAfter)
	}
}
