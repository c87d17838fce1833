package sms

import (
	"strconv"
	"strings"
)

// Information element identifiers of the concatenation headers (TS 23.040
// §9.2.3.24.1 and §9.2.3.24.8).
const (
	ieConcat8  = 0x00
	ieConcat16 = 0x08
)

// GapMarker stands in Assemble's text for each missing part. It is not
// something a sender would write, so a reader sees at once that text is
// missing and where.
const GapMarker = "[…]"

// ConcatKey identifies the long message a part belongs to: sender, reference
// size, reference and part count, so that an 8-bit and a 16-bit reference
// with the same value, or two messages from different senders, never mix.
// It is "" for a single-part message.
func ConcatKey(d *Deliver) string {
	if d == nil || d.Concat == nil {
		return ""
	}
	c := d.Concat
	size := "8"
	if c.Ref16 {
		size = "16"
	}
	var b strings.Builder
	b.Grow(len(d.From) + 16)
	b.WriteString(d.From)
	b.WriteByte('|')
	b.WriteString(size)
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(int(c.Ref)))
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(c.Total))
	return b.String()
}

// Assemble joins the parts of one long message, given in any order and with
// duplicates allowed (the first copy of a part wins). The message is the one
// the first non-nil part belongs to; parts with another ConcatKey are
// ignored, and a single-part message is returned as it is. complete is false
// when any part 1..Total is missing: the text then holds the parts present,
// in order, with GapMarker for each missing one.
func Assemble(parts []*Deliver) (text string, complete bool) {
	var first *Deliver
	for _, p := range parts {
		if p != nil {
			first = p
			break
		}
	}
	if first == nil {
		return "", false
	}
	if first.Concat == nil {
		return first.Text, true
	}
	key := ConcatKey(first)
	total := first.Concat.Total
	bySeq := make([]*Deliver, total+1)
	for _, p := range parts {
		if p == nil || p.Concat == nil || ConcatKey(p) != key {
			continue
		}
		if seq := p.Concat.Seq; seq >= 1 && seq <= total && bySeq[seq] == nil {
			bySeq[seq] = p
		}
	}
	var b strings.Builder
	complete = true
	for _, p := range bySeq[1:] {
		if p == nil {
			complete = false
			b.WriteString(GapMarker)
			continue
		}
		b.WriteString(p.Text)
	}
	return b.String(), complete
}
