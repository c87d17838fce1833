package sms

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// Errors the decoders wrap.
var (
	// ErrMalformedPDU: the hex or the TPDU structure is broken.
	ErrMalformedPDU = errors.New("malformed PDU")
	// ErrWrongType: a well-formed PDU of another type than asked for.
	ErrWrongType = errors.New("unexpected PDU type")
)

// TP-MTI values (TS 23.040 §9.2.3.1) as they appear in stored or received
// PDUs, that is in the SC→MS direction for 0 and 2.
const (
	mtiDeliver      = 0x00
	mtiStatusReport = 0x02
	mtiReserved     = 0x03
)

// RP addresses, which carry the SMSC number, are at most 11 octets long
// including the type-of-address (TS 24.011 §8.2.5.1).
const maxSMSCOctets = 11

// splitPDU decodes the hex a modem gives in PDU mode and separates the SMSC
// address in front from the TPDU.
func splitPDU(pduHex string) (smsc string, tp []byte, err error) {
	raw, err := decodeHex(pduHex)
	if err != nil {
		return "", nil, err
	}
	if len(raw) > 0 && raw[0] > maxSMSCOctets {
		return "", nil, fmt.Errorf("sms: %w: SMSC address length %d exceeds %d octets", ErrMalformedPDU, raw[0], maxSMSCOctets)
	}
	var sc pdumode.SMSCAddress
	n, err := sc.UnmarshalBinary(raw)
	if err != nil {
		return "", nil, fmt.Errorf("sms: %w: SMSC address: %w", ErrMalformedPDU, err)
	}
	if n >= len(raw) {
		return "", nil, fmt.Errorf("sms: %w: no TPDU after the SMSC address", ErrMalformedPDU)
	}
	smsc, _ = addressText(sc.Address)
	return smsc, raw[n:], nil
}

func decodeHex(pduHex string) ([]byte, error) {
	s := strings.TrimSpace(pduHex)
	if s == "" {
		return nil, fmt.Errorf("sms: %w: empty", ErrMalformedPDU)
	}
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("sms: %w: odd number of hex digits (%d)", ErrMalformedPDU, len(s))
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("sms: %w: %w", ErrMalformedPDU, err)
	}
	return raw, nil
}

// TPDULength is the number of TPDU octets in a PDU-mode hex string, the
// SMSC part excluded: the <length> that AT+CMGS expects and that +CMT, +CDS
// and +CMGR report. A simulator compares it with the length it was given.
func TPDULength(pduHex string) (int, error) {
	_, tp, err := splitPDU(pduHex)
	if err != nil {
		return 0, err
	}
	return len(tp), nil
}

// Deliver is a received short message (SMS-DELIVER).
type Deliver struct {
	SMSC string
	// From is the originator: "+digits" for international numbers, national
	// numbers normalised where they follow the Russian patterns of Normalize,
	// short codes as sent ("900"), and alphanumeric names (TON 5) as their
	// text ("MTS", "Tele2", "000100") with FromAlpha set.
	From      string
	FromAlpha bool
	// Text is the message text; empty for 8-bit data, which is in Data.
	Text     string
	Data     []byte
	Encoding Encoding
	// SCTS is when the service centre received the message, in the zone the
	// network stated (UTC when it stated zero).
	SCTS   time.Time
	Concat *Concat // nil for a single-part message
	// PlainText is true only for ordinary text a person can have sent:
	// NotPlainReason says why not (8-bit data, application ports such as WAP
	// push, class 0 flash messages, silent type 0, SIM data download,
	// compressed text, message waiting indications). Only plain text counts
	// for confirmations.
	PlainText      bool
	NotPlainReason string
	Flash          bool // class 0: shown at once and not stored by handsets
	PID, DCS       byte
}

// Concat places one part in a long message. Ref16 tells which IE carried the
// reference: 16-bit (08) or 8-bit (00).
type Concat struct {
	Ref        uint16
	Ref16      bool
	Total, Seq int
}

// DecodeDeliver decodes an SMS-DELIVER as a modem gives it in PDU mode
// (+CMGR, +CMGL, +CMT), SMSC address included. It is tolerant where the
// message can still be read: undecodable GSM septets become spaces and a
// broken UTF-16 surrogate becomes U+FFFD. A reserved TP-MTI is read as
// SMS-DELIVER, as TS 23.040 §9.2.3.1 tells receivers to.
func DecodeDeliver(pduHex string) (*Deliver, error) {
	smsc, tp, err := splitPDU(pduHex)
	if err != nil {
		return nil, err
	}
	return decodeDeliverTPDU(smsc, tp)
}

func decodeDeliverTPDU(smsc string, tp []byte) (*Deliver, error) {
	switch mti := tp[0] & 0x03; mti {
	case mtiDeliver:
	case mtiReserved:
		tp = append([]byte{tp[0] &^ 0x03}, tp[1:]...)
	default:
		return nil, fmt.Errorf("sms: %w: %s, not SMS-DELIVER", ErrWrongType, mtiName(mti))
	}
	var t tpdu.TPDU
	if err := t.UnmarshalBinary(tp); err != nil {
		return nil, fmt.Errorf("sms: %w: %w", ErrMalformedPDU, err)
	}
	d := &Deliver{
		SMSC: smsc,
		SCTS: t.SCTS.Time,
		PID:  t.PID,
		DCS:  byte(t.DCS),
	}
	d.From, d.FromAlpha = addressText(t.OA)
	d.Concat = lenientConcat(t.UDH)
	alpha, alphaErr := t.DCS.Alphabet()
	switch {
	case alphaErr != nil:
		d.Encoding = EncodingGSM7
		d.Text = gsmText(t.UD)
	case alpha == tpdu.AlphaUCS2:
		d.Encoding = EncodingUCS2
		d.Text = utf16Text(t.UD)
	case alpha == tpdu.Alpha8Bit:
		d.Encoding = Encoding8Bit
		d.Data = append([]byte(nil), t.UD...)
	default:
		d.Encoding = EncodingGSM7
		d.Text = gsmText(t.UD)
	}
	class, _ := t.DCS.Class()
	d.Flash = class == tpdu.MClass0
	d.NotPlainReason = notPlainReason(t, alphaErr != nil)
	d.PlainText = d.NotPlainReason == ""
	return d, nil
}

func gsmText(septets []byte) string {
	b, _ := gsmDecoder.Decode(septets) // the lenient decoder never fails
	return string(b)
}

// utf16Text decodes UTF-16BE, replacing a dangling surrogate with U+FFFD
// instead of failing: some senders split pairs across parts.
func utf16Text(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// Information elements that mark a message as something other than text for
// a person (TS 23.040 §9.2.3.24).
const (
	ieSpecialIndication = 0x01
	iePort8             = 0x04
	iePort16            = 0x05
	ieSIMToolkitFirst   = 0x70
	ieSIMToolkitLast    = 0x7f
	wapPushPort         = 2948
)

func notPlainReason(t tpdu.TPDU, reservedDCS bool) string {
	dcs := byte(t.DCS)
	switch {
	case reservedDCS:
		return fmt.Sprintf("reserved data coding scheme 0x%02X", dcs)
	case dcs&0xf0 == 0xc0:
		return "message waiting indication to discard"
	case t.DCS.Compressed():
		return "compressed text"
	}
	if alpha, _ := t.DCS.Alphabet(); alpha == tpdu.Alpha8Bit {
		return "8-bit data"
	}
	if class, _ := t.DCS.Class(); class == tpdu.MClass0 {
		return "class 0 (flash) message"
	}
	switch {
	case t.PID == 0x40:
		return "short message type 0 (silent)"
	case t.PID >= 0x7c && t.PID <= 0x7f:
		return "data download to the handset or SIM"
	}
	for _, ie := range t.UDH {
		switch {
		case ie.ID == iePort8 && len(ie.Data) >= 1:
			return fmt.Sprintf("application port %d", ie.Data[0])
		case ie.ID == iePort16 && len(ie.Data) >= 2:
			port := binary.BigEndian.Uint16(ie.Data)
			if port == wapPushPort {
				return "WAP push"
			}
			return fmt.Sprintf("application port %d", port)
		case ie.ID == ieSpecialIndication:
			return "special message indication (voicemail, fax or e-mail waiting)"
		case ie.ID >= ieSIMToolkitFirst && ie.ID <= ieSIMToolkitLast:
			return "SIM toolkit secured data"
		}
	}
	return ""
}

// lenientConcat reads the last concatenation IE, as TS 23.040 §9.2.3.24 has
// receivers use the last of repeated IEs. An IE with a zero count, a zero
// sequence number or one beyond the count must be ignored (§9.2.3.24.1), and
// a count of one is a single part, so all of these give nil.
func lenientConcat(udh tpdu.UserDataHeader) *Concat {
	var c *Concat
	for _, ie := range udh {
		switch {
		case ie.ID == ieConcat8 && len(ie.Data) == 3:
			c = &Concat{Ref: uint16(ie.Data[0]), Total: int(ie.Data[1]), Seq: int(ie.Data[2])}
		case ie.ID == ieConcat16 && len(ie.Data) == 4:
			c = &Concat{Ref: binary.BigEndian.Uint16(ie.Data), Ref16: true, Total: int(ie.Data[2]), Seq: int(ie.Data[3])}
		}
	}
	if c == nil || c.Total <= 1 || c.Seq < 1 || c.Seq > c.Total {
		return nil
	}
	return c
}

func mtiName(mti byte) string {
	switch mti {
	case mtiDeliver:
		return "SMS-DELIVER"
	case mtiSubmit:
		return "SMS-SUBMIT"
	case mtiStatusReport:
		return "SMS-STATUS-REPORT"
	}
	return "reserved TP-MTI"
}

// DecodeAny decodes a stored or received PDU by its TP-MTI, for a storage
// sweep to route: *Deliver, *StatusReport or *Submit (a message left in
// storage unsent or sent). It looks only at the PDU, not at the +CMGL stat
// that came with it. A reserved TP-MTI is read as SMS-DELIVER (TS 23.040
// §9.2.3.1).
func DecodeAny(pduHex string) (any, error) {
	smsc, tp, err := splitPDU(pduHex)
	if err != nil {
		return nil, err
	}
	switch tp[0] & 0x03 {
	case mtiSubmit:
		return decodeSubmitTPDU(smsc, tp)
	case mtiStatusReport:
		return decodeStatusReportTPDU(smsc, tp)
	}
	return decodeDeliverTPDU(smsc, tp)
}
