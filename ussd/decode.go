package ussd

import (
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/warthog618/sms/encoding/gsm7"
	"github.com/warthog618/sms/encoding/ucs2"
)

type alphabet int

const (
	alphabetUnknown alphabet = iota
	alphabetGSM7
	alphabet8Bit
	alphabetUCS2
)

// Data coding schemes with a language prefix (3GPP TS 23.038 §5, CBS coding
// groups, which USSD uses).
const (
	dcsGSM7WithLanguage = 0x10
	dcsUCS2WithLanguage = 0x11
)

// dcsAlphabet maps a data coding scheme to the alphabet it announces.
func dcsAlphabet(dcs int) alphabet {
	switch {
	case dcs < 0 || dcs > 0xff:
		return alphabetUnknown
	case dcs == dcsUCS2WithLanguage:
		return alphabetUCS2
	case dcs <= 0x3f:
		// Groups 0000-0011: GSM 7-bit in some language; reserved values are
		// to be treated as GSM 7-bit.
		return alphabetGSM7
	case dcs&0xc0 == 0x40 || dcs&0xf0 == 0x90:
		// General data coding and "message with UDH": bits 3-2 are the alphabet.
		switch dcs & 0x0c {
		case 0x04:
			return alphabet8Bit
		case 0x08:
			return alphabetUCS2
		default:
			return alphabetGSM7
		}
	case dcs&0xf0 == 0xf0:
		if dcs&0x04 != 0 {
			return alphabet8Bit
		}
		return alphabetGSM7
	default:
		return alphabetUnknown
	}
}

// minReadability is the share of readable characters a hex interpretation
// needs before it is preferred to showing the string as it came. Correct
// decodings of operator texts score 1.0; wrong ones fall far below (see the
// decode tests), so the margin is wide.
const minReadability = 0.9

// decode turns the string of a +CUSD reply into text. The DCS is a hint, not a
// fact: modems in the UCS2 character set send UCS2 hex labelled 15, Huawei sends
// packed GSM 7-bit hex labelled 15, and others send plain text. So every
// interpretation that fits the shape of the string is tried, and the most
// readable one wins; the DCS only orders them for ties. When none is readable,
// the string is returned as it came, because showing the modem's own bytes is
// better than inventing text.
func decode(raw string, dcs int) (text, decoding string) {
	if raw == "" {
		return "", ""
	}
	best := candidate{}
	for _, c := range hexCandidates(raw, dcs) {
		if c.score > best.score {
			best = c
		}
	}
	text, decoding = strings.ToValidUTF8(raw, "\uFFFD"), DecodingText
	if best.score >= minReadability {
		text, decoding = best.text, best.decoding
	}
	if dcs == dcsGSM7WithLanguage && decoding != DecodingUCS2Hex && decoding != DecodingUCS2HexLang {
		// The "ru\r" prefix of DCS 16 comes with the GSM text, whether the
		// modem passed it on as text or as hex.
		text = stripGSM7Language(text)
	}
	return text, decoding
}

type candidate struct {
	text, decoding string
	score          float64
}

// hexCandidates lists the readings of raw as hex, most expected first.
func hexCandidates(raw string, dcs int) []candidate {
	if len(raw) < 4 || len(raw)%2 != 0 {
		return nil
	}
	octets, err := hex.DecodeString(raw)
	if err != nil {
		return nil
	}
	ucs2Readings := ucs2Candidates(octets, dcs)
	if onlyDecimalDigits(raw) {
		// Plain digits (a phone number, a PIN) are also valid hex. Real GSM
		// text almost never packs to decimal-only hex, but UCS2 of digits
		// always does, so only UCS2 may claim such a string.
		return ucs2Readings
	}
	packed := newCandidate(decodeGSM7(unpackUSSD(octets)), DecodingGSM7PackedHex)
	var gsm []candidate
	if septets, ok := asSeptets(octets); ok {
		gsm = append(gsm, newCandidate(decodeGSM7(septets), DecodingGSM7))
	}
	switch dcsAlphabet(dcs) {
	case alphabetGSM7:
		return append(append([]candidate{packed}, gsm...), ucs2Readings...)
	case alphabet8Bit:
		return append([]candidate{newCandidate(decode8Bit(octets), Decoding8Bit)}, append(ucs2Readings, packed)...)
	default:
		return append(append(ucs2Readings, packed), gsm...)
	}
}

// ucs2Candidates reads octets as UCS2. For DCS 17 the reading without a
// language prefix comes first only when the first character does not look like
// one, because some networks send the prefix and some do not.
func ucs2Candidates(octets []byte, dcs int) []candidate {
	if len(octets)%2 != 0 {
		return nil
	}
	var out []candidate
	if dcs == dcsUCS2WithLanguage && len(octets) > 2 && isLanguagePrefix(octets[:2]) {
		if runes, err := ucs2.Decode(octets[2:]); err == nil {
			out = append(out, newCandidate(string(runes), DecodingUCS2HexLang))
		}
	}
	if runes, err := ucs2.Decode(octets); err == nil {
		out = append(out, newCandidate(string(runes), DecodingUCS2Hex))
	}
	return out
}

// isLanguagePrefix reports whether two octets hold an ISO 639 code: two GSM
// 7-bit letters packed with 2 fill bits as 23.038 says, or two plain ASCII
// letters as some networks send.
func isLanguagePrefix(p []byte) bool {
	packed := gsm7.Unpack7Bit(p, 0)
	if len(packed) >= 2 && isASCIILower(packed[0]) && isASCIILower(packed[1]) {
		return true
	}
	return isASCIILetter(p[0]) && isASCIILetter(p[1])
}

func isASCIILower(b byte) bool  { return b >= 'a' && b <= 'z' }
func isASCIILetter(b byte) bool { return isASCIILower(b) || (b >= 'A' && b <= 'Z') }

func newCandidate(text, decoding string) candidate {
	return candidate{text: text, decoding: decoding, score: readability(text)}
}

// asSeptets returns octets as unpacked septets when every octet fits in 7 bits.
func asSeptets(octets []byte) ([]byte, bool) {
	for _, o := range octets {
		if o > 0x7f {
			return nil, false
		}
	}
	return octets, true
}

func decodeGSM7(septets []byte) string {
	text, _ := gsm7.Decode(septets) // not strict: cannot fail
	return string(text)
}

// decode8Bit reads 8-bit data as UTF-8 when it is valid, else as Latin-1, the
// two texts operators put there.
func decode8Bit(octets []byte) string {
	if utf8.Valid(octets) {
		return string(octets)
	}
	runes := make([]rune, len(octets))
	for i, o := range octets {
		runes[i] = rune(o)
	}
	return string(runes)
}

// stripGSM7Language drops the "xx\r" language prefix DCS 16 puts before the text.
func stripGSM7Language(s string) string {
	if len(s) >= 3 && isASCIILetter(s[0]) && isASCIILetter(s[1]) && (s[2] == '\r' || s[2] == '\n') {
		return s[3:]
	}
	return s
}

func onlyDecimalDigits(s string) bool {
	return leadingDigits(s) == s
}

// readability is the weighted share of runes that belong in a Russian or
// Latin operator text. Accented Latin letters and rarer ASCII symbols count
// half: they are most of what misaligned GSM septets decode to, and Russian
// operators do not use them. '@', Greek capitals and control characters count
// nothing: zero bits and wrong alignments produce them.
func readability(s string) float64 {
	if s == "" {
		return 0
	}
	var score float64
	var total int
	for _, r := range s {
		total++
		score += runeWeight(r)
	}
	return score / float64(total)
}

func runeWeight(r rune) float64 {
	switch {
	case r == '@':
		return 0
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', unicode.Is(unicode.Cyrillic, r):
		return 1
	case strings.ContainsRune(" \n\r\t.,:;!?-()\"'/%*#+=№₽«»–—…‘’“”•\u00a0\u2009\u202f", r):
		return 1
	case r > ' ' && r <= '~', unicode.Is(unicode.Latin, r), r == '€':
		return 0.5
	default:
		return 0
	}
}
