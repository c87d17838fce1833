package sms

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/warthog618/sms/encoding/gsm7"
	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// Errors EncodeSubmit wraps.
var (
	ErrEmptyText   = errors.New("empty message text")
	ErrTextTooLong = errors.New("message text needs more than 255 parts")
	ErrInvalidText = errors.New("message text is not valid UTF-8")
)

// SubmitOptions shape the SMS-SUBMIT PDUs EncodeSubmit builds.
type SubmitOptions struct {
	// SMSC is the service centre number; "" lets the modem use the one stored
	// on the SIM (the PDU then starts with 00).
	SMSC string
	// StatusReport asks the network for a delivery report (TP-SRR).
	StatusReport bool
	// Validity is how long the service centre keeps trying; 0 leaves TP-VP
	// out. Otherwise it is sent in the relative format, rounded down to an
	// encodable value, as RelativeValidity documents.
	Validity time.Duration
	// ConcatRef identifies the parts of one long message; only used when the
	// text needs more than one part. The caller keeps the counter (a reused
	// reference makes handsets merge two messages). With the 8-bit IE only
	// its low byte is sent.
	ConcatRef uint16
	// Ref16 selects the 16-bit reference IE (08) instead of the 8-bit one
	// (00), at the cost of one character per part.
	Ref16 bool
}

// SubmitPart is one SMS-SUBMIT ready for AT+CMGS in PDU mode.
type SubmitPart struct {
	PDU        string // hex as written after AT+CMGS=<TPDULen>, SMSC part included
	TPDULen    int    // octets excluding the SMSC part: the <length> for AT+CMGS
	Seq, Total int    // 1-based position and count; 1 and 1 for a single part
}

// TP-VP relative format steps (TS 23.040 §9.2.3.12.1):
//
//	  0..143: (VP+1) × 5 minutes        5 min .. 12 h
//	144..167: 12 h + (VP−143) × 30 min  12 h 30 min .. 24 h
//	168..196: (VP−166) × 1 day          2 days .. 30 days
//	197..255: (VP−192) × 1 week         5 weeks .. 63 weeks
const (
	vpMin = 5 * time.Minute
	day   = 24 * time.Hour
	week  = 7 * day
)

// RelativeValidity gives the TP-VP octet for d in the relative format: the
// largest encodable period not longer than d, so the network never keeps
// trying longer than asked, except that anything under 5 minutes becomes 5
// minutes, the shortest period the format has. Periods beyond 63 weeks
// become 63 weeks.
//
// The library's own conversion is not used because it rounds 5..10 minutes
// up to 10 minutes.
func RelativeValidity(d time.Duration) byte {
	switch {
	case d < vpMin:
		return 0
	case d < 12*time.Hour+30*time.Minute:
		return byte(min(d/(5*time.Minute)-1, 143))
	case d < 2*day:
		return byte(min(143+(d-12*time.Hour)/(30*time.Minute), 167))
	case d < 5*week:
		return byte(min(166+d/day, 196))
	}
	return byte(min(192+d/week, 255))
}

// ValidityDuration is the period a relative TP-VP octet stands for.
func ValidityDuration(vp byte) time.Duration {
	v := time.Duration(vp)
	switch {
	case vp <= 143:
		return (v + 1) * 5 * time.Minute
	case vp <= 167:
		return 12*time.Hour + (v-143)*30*time.Minute
	case vp <= 196:
		return (v - 166) * day
	}
	return (v - 192) * week
}

// Type-of-address octet for an international ISDN/E.164 number.
const toaInternational = 0x91

// First-octet bits of an SMS-SUBMIT (TS 23.040 §9.2.2.2).
const (
	mtiSubmit        = 0x01
	vpfRelative      = 0x10
	srrBit           = 0x20
	udhiBit          = 0x40
	dcsGSM7     byte = 0x00
	dcsUCS2     byte = 0x08
)

// EncodeSubmit builds the SMS-SUBMIT PDUs that send text to the number to,
// which goes through Normalize (a normalised number passes unchanged). TP-MR
// is 0: the modem assigns the message reference and reports it in
// "+CMGS: <mr>". Text needing more than one part carries a concatenation IE
// with opts.ConcatRef; parts are cut exactly as Split counts them.
func EncodeSubmit(to, text string, opts SubmitOptions) ([]SubmitPart, error) {
	dest, err := Normalize(to)
	if err != nil {
		return nil, fmt.Errorf("sms: recipient: %w", err)
	}
	switch {
	case text == "":
		return nil, fmt.Errorf("sms: %w", ErrEmptyText)
	case !utf8.ValidString(text):
		return nil, fmt.Errorf("sms: %w", ErrInvalidText)
	case opts.Validity < 0:
		return nil, fmt.Errorf("sms: negative validity %v", opts.Validity)
	}
	smsc, err := encodeSMSC(opts.SMSC)
	if err != nil {
		return nil, err
	}
	da := tpdu.Address{TOA: toaInternational, Addr: dest[1:]}
	daOctets, err := da.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("sms: recipient: %w", err)
	}

	t := encodeText(text)
	chunks := t.chunks(opts.Ref16)
	if len(chunks) > maxParts {
		return nil, fmt.Errorf("sms: %w (%d)", ErrTextTooLong, len(chunks))
	}
	head := submitHeader(daOctets, t.enc, len(chunks) > 1, opts)
	parts := make([]SubmitPart, len(chunks))
	for i, chunk := range chunks {
		var udh []byte
		if len(chunks) > 1 {
			udh = concatHeader(opts, len(chunks), i+1)
		}
		tp := appendUserData(head, t.enc, udh, chunk)
		pdu := make([]byte, 0, len(smsc)+len(tp))
		pdu = append(append(pdu, smsc...), tp...)
		parts[i] = SubmitPart{
			PDU:     strings.ToUpper(hex.EncodeToString(pdu)),
			TPDULen: len(tp),
			Seq:     i + 1,
			Total:   len(chunks),
		}
	}
	return parts, nil
}

func encodeSMSC(number string) ([]byte, error) {
	if number == "" {
		return []byte{0}, nil
	}
	n, err := Normalize(number)
	if err != nil {
		return nil, fmt.Errorf("sms: SMSC: %w", err)
	}
	a := pdumode.SMSCAddress{Address: tpdu.Address{TOA: toaInternational, Addr: n[1:]}}
	b, err := a.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("sms: SMSC: %w", err)
	}
	return b, nil
}

// submitHeader is the TPDU up to and including TP-VP, the same for every
// part of one message.
func submitHeader(da []byte, enc Encoding, multipart bool, opts SubmitOptions) []byte {
	fo := byte(mtiSubmit)
	if opts.Validity > 0 {
		fo |= vpfRelative
	}
	if opts.StatusReport {
		fo |= srrBit
	}
	if multipart {
		fo |= udhiBit
	}
	dcs := dcsGSM7
	if enc == EncodingUCS2 {
		dcs = dcsUCS2
	}
	h := make([]byte, 0, 4+len(da)+1)
	h = append(h, fo, 0) // TP-MR 0: the modem sets it
	h = append(h, da...)
	h = append(h, 0, dcs) // TP-PID 0: plain short message
	if opts.Validity > 0 {
		h = append(h, RelativeValidity(opts.Validity))
	}
	return h
}

func concatHeader(opts SubmitOptions, total, seq int) []byte {
	if opts.Ref16 {
		return []byte{concatUDH16 - 1, ieConcat16, 4, byte(opts.ConcatRef >> 8), byte(opts.ConcatRef), byte(total), byte(seq)}
	}
	return []byte{concatUDH8 - 1, ieConcat8, 3, byte(opts.ConcatRef), byte(total), byte(seq)}
}

// appendUserData returns a copy of head followed by TP-UDL and TP-UD. GSM
// text after a header starts on a septet boundary (TS 23.040 §9.2.3.24), so
// fill bits pad the header and TP-UDL counts them as septets.
func appendUserData(head []byte, enc Encoding, udh, units []byte) []byte {
	var ud []byte
	var udl int
	if enc == EncodingGSM7 {
		fill := (7 - len(udh)*8%7) % 7
		ud = gsm7.Pack7Bit(units, fill)
		udl = len(units) + (len(udh)*8+fill)/7
	} else {
		ud = units
		udl = len(udh) + len(units)
	}
	b := make([]byte, 0, len(head)+1+len(udh)+len(ud))
	b = append(b, head...)
	b = append(b, byte(udl))
	b = append(b, udh...)
	return append(b, ud...)
}
