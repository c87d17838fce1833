package sms

import (
	"strings"

	"github.com/warthog618/sms/encoding/gsm7"
	"github.com/warthog618/sms/encoding/ucs2"
)

// Encoding is the alphabet of a message's user data (TS 23.038 §4).
type Encoding string

// The alphabets a short message can use.
const (
	EncodingGSM7 Encoding = "gsm7"
	EncodingUCS2 Encoding = "ucs2"
	Encoding8Bit Encoding = "8bit"
)

// The library's default GSM 7-bit tables are built lazily on first use
// without locking, which the race detector flags when two goroutines decode
// or encode first at the same time. Building them here, during package
// initialisation, leaves only reads afterwards; the values are never
// modified.
var (
	gsmEncoder       = gsm7.NewEncoder()
	gsmDecoder       = gsm7.NewDecoder()
	gsmStrictDecoder = gsm7.NewDecoder().Strict()
)

const (
	esc = 0x1b // GSM 7-bit escape to the extension table

	maxUserDataOctets = 140
	maxSeptets        = 160
	maxParts          = 255 // the concatenation IE counts parts in one octet

	// UDH octets taken by a concatenation IE, UDHL included.
	concatUDH8  = 6 // 05 00 03 ref total seq
	concatUDH16 = 7 // 06 08 04 ref ref total seq
)

// encodedText is text in its air encoding: unpacked GSM septets, one per
// byte, escapes included; or UTF-16 big-endian octets.
type encodedText struct {
	enc   Encoding
	units []byte
}

// encodeText picks GSM 7-bit with the default alphabet and its extension
// table when every character fits, else UCS2. A literal ESC (U+001B) maps to
// the GSM escape code itself and would swallow the next character, so text
// containing it goes as UCS2.
func encodeText(text string) encodedText {
	if !strings.ContainsRune(text, esc) {
		if septets, err := gsmEncoder.Encode([]byte(text)); err == nil {
			return encodedText{EncodingGSM7, septets}
		}
	}
	return encodedText{EncodingUCS2, ucs2.Encode([]rune(text))}
}

// partCapacity is how many units (septets for GSM, octets for UCS2) of text
// one part carries: the whole 140 octets when the text fits in one part,
// else what the concatenation header leaves.
func partCapacity(enc Encoding, multipart, ref16 bool) int {
	udh := 0
	if multipart {
		udh = concatUDH8
		if ref16 {
			udh = concatUDH16
		}
	}
	if enc == EncodingGSM7 {
		return (maxUserDataOctets - udh) * 8 / 7
	}
	return (maxUserDataOctets - udh) &^ 1
}

// chunks cuts encoded text into parts. A part never ends between a GSM escape
// and the character it escapes, nor between the two halves of a UTF-16
// surrogate pair, because handsets render each part on its own when parts go
// missing and many decode parts separately. The returned slices share units.
func (t encodedText) chunks(ref16 bool) [][]byte {
	if len(t.units) == 0 {
		return nil
	}
	if len(t.units) <= partCapacity(t.enc, false, ref16) {
		return [][]byte{t.units}
	}
	size := partCapacity(t.enc, true, ref16)
	parts := make([][]byte, 0, len(t.units)/size+1)
	rest := t.units
	for len(rest) > size {
		end := size
		switch t.enc {
		case EncodingGSM7:
			// Every ESC in encoder output introduces an escape: the
			// extension table has no entry for 0x1B.
			if rest[end-1] == esc {
				end--
			}
		default:
			if isHighSurrogate(rest[end-2], rest[end-1]) {
				end -= 2
			}
		}
		parts = append(parts, rest[:end])
		rest = rest[end:]
	}
	return append(parts, rest)
}

func isHighSurrogate(hi, lo byte) bool {
	u := uint16(hi)<<8 | uint16(lo)
	return u >= 0xd800 && u < 0xdc00
}

// Split reports how many parts text needs and in which encoding, with the
// 8-bit concatenation reference EncodeSubmit uses by default: GSM 7-bit
// (default alphabet plus extension table, where €[]{}^~|\ and form feed take
// two septets) when possible, 160 septets in one part or 153 per part; else
// UCS2, 70 UTF-16 units in one part or 67 per part. Parts are cut where
// EncodeSubmit cuts them, so a part may hold one unit less to keep an escape
// or a surrogate pair whole. Empty text needs no part (EncodeSubmit refuses
// it).
func Split(text string) (parts int, enc Encoding) {
	return SplitWith(text, SubmitOptions{})
}

// SplitWith is Split for the given options: with Ref16 a part carries one
// septet (GSM) or one UTF-16 unit (UCS2) less, 152 or 66.
func SplitWith(text string, opts SubmitOptions) (parts int, enc Encoding) {
	t := encodeText(text)
	return len(t.chunks(opts.Ref16)), t.enc
}
