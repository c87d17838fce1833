package ussd

import "github.com/warthog618/sms/encoding/gsm7"

const septetCR = 0x0d

// packUSSD packs GSM 7-bit septets with the USSD filler rules of 3GPP TS 23.038
// §6.1.2.3.1. The library's Pack7BitUSSD is not used: it decides on filler by
// looking at the value of the last octet rather than the septet count, and so
// rewrites e.g. "A£" into different text.
func packUSSD(septets []byte) []byte {
	packed := gsm7.Pack7Bit(septets, 0)
	n := len(septets)
	switch {
	case n%8 == 7:
		// 8n-1 septets leave 7 spare bits that a receiver would read as '@'.
		packed[len(packed)-1] |= septetCR << 1
	case n > 0 && n%8 == 0 && septets[n-1] == septetCR:
		// A wanted trailing CR on an octet boundary would be taken for filler
		// and dropped, so a second CR follows it.
		packed = append(packed, septetCR)
	}
	return packed
}

// unpackUSSD reverses packUSSD. The library's Unpack7BitUSSD is not used: it
// drops the last character whenever the final octet happens to equal the
// filler pattern ("A5" comes back as "A"). Per §6.1.2.3.1 a CR is filler only
// when the septets end exactly on an octet boundary. Zero filler in the same
// place is dropped too: encoders that ignore the rule leave 7 zero bits, which
// would otherwise show as a trailing '@'.
func unpackUSSD(packed []byte) []byte {
	septets := gsm7.Unpack7Bit(packed, 0)
	if len(packed)%7 == 0 && len(septets) > 0 {
		if last := septets[len(septets)-1]; last == septetCR || last == 0 {
			septets = septets[:len(septets)-1]
		}
	}
	return septets
}
