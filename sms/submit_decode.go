package sms

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/warthog618/sms/encoding/tpdu"
)

// Submit is a decoded SMS-SUBMIT: what a modem was asked to send.
type Submit struct {
	SMSC    string // "" when the PDU leaves it to the SIM
	MR      byte
	To      string // rendered like Deliver.From
	ToAlpha bool
	Text    string // empty for 8-bit data, which is in Data
	Data    []byte
	// Encoding of the user data.
	Encoding Encoding
	SRR      bool // a status report was requested
	// VP is the relative (or enhanced relative) validity; 0 when TP-VP is
	// absent or absolute, which VPAbsolute then holds.
	VP         time.Duration
	VPAbsolute time.Time
	Concat     *Concat
	PID, DCS   byte
	TPDULen    int // octets after the SMSC part, for checking AT+CMGS=<n>
}

// DecodeSubmit decodes an SMS-SUBMIT strictly, for a simulator or test to
// check what a modem was given: besides what the library checks (hex, field
// lengths, TP-UDL against the octets present, UCS2 parity), it rejects user
// data longer than one part may be, a header flagged but missing, a
// concatenation IE with the wrong size, a zero count or a sequence number
// outside 1..count, GSM septets outside the default alphabet and its
// extension table, a trailing lone escape, and an unpaired UTF-16 surrogate
// (which the library would turn into U+FFFD).
func DecodeSubmit(pduHex string) (*Submit, error) {
	smsc, tp, err := splitPDU(pduHex)
	if err != nil {
		return nil, err
	}
	return decodeSubmitTPDU(smsc, tp)
}

func decodeSubmitTPDU(smsc string, tp []byte) (*Submit, error) {
	if mti := tp[0] & 0x03; mti != mtiSubmit {
		return nil, fmt.Errorf("sms: %w: %s, not SMS-SUBMIT", ErrWrongType, mtiName(mti))
	}
	t := tpdu.TPDU{Direction: tpdu.MO}
	if err := t.UnmarshalBinary(tp); err != nil {
		return nil, fmt.Errorf("sms: %w: %w", ErrMalformedPDU, err)
	}
	alpha, err := t.DCS.Alphabet()
	if err != nil {
		return nil, fmt.Errorf("sms: %w: reserved data coding scheme 0x%02X", ErrMalformedPDU, byte(t.DCS))
	}
	if err := checkSubmitUserData(tp, t, alpha); err != nil {
		return nil, fmt.Errorf("sms: %w: %w", ErrMalformedPDU, err)
	}
	concat, err := strictConcat(t.UDH)
	if err != nil {
		return nil, fmt.Errorf("sms: %w: %w", ErrMalformedPDU, err)
	}
	s := &Submit{
		SMSC:    smsc,
		MR:      t.MR,
		SRR:     t.FirstOctet.SRR(),
		Concat:  concat,
		PID:     t.PID,
		DCS:     byte(t.DCS),
		TPDULen: len(tp),
	}
	s.To, s.ToAlpha = addressText(t.DA)
	switch t.VP.Format {
	case tpdu.VpfRelative, tpdu.VpfEnhanced:
		s.VP = t.VP.Duration
	case tpdu.VpfAbsolute:
		s.VPAbsolute = t.VP.Time.Time
	}
	switch alpha {
	case tpdu.AlphaUCS2:
		s.Encoding = EncodingUCS2
		text, err := strictUTF16(t.UD)
		if err != nil {
			return nil, fmt.Errorf("sms: %w: %w", ErrMalformedPDU, err)
		}
		s.Text = text
	case tpdu.Alpha8Bit:
		s.Encoding = Encoding8Bit
		s.Data = append([]byte(nil), t.UD...)
	default:
		s.Encoding = EncodingGSM7
		if n := len(t.UD); n > 0 && t.UD[n-1] == esc {
			return nil, fmt.Errorf("sms: %w: GSM text ends in a lone escape", ErrMalformedPDU)
		}
		text, err := gsmStrictDecoder.Decode(t.UD)
		if err != nil {
			return nil, fmt.Errorf("sms: %w: %w", ErrMalformedPDU, err)
		}
		s.Text = string(text)
	}
	return s, nil
}

// checkSubmitUserData applies the limits the library leaves to the caller:
// TP-UDL at most 160 septets or 140 octets, and a header present whenever
// TP-UDHI says so. It runs after a successful unmarshal, so the fields in
// front of TP-UDL are known to be there.
func checkSubmitUserData(tp []byte, t tpdu.TPDU, alpha tpdu.Alphabet) error {
	// first octet, TP-MR, TP-DA length and type, TP-DA digits, TP-PID, TP-DCS
	at := 4 + (int(tp[2])+1)/2 + 2
	switch t.FirstOctet.VPF() {
	case tpdu.VpfRelative:
		at++
	case tpdu.VpfEnhanced, tpdu.VpfAbsolute:
		at += 7
	}
	udl := int(tp[at])
	limit := maxUserDataOctets
	if alpha == tpdu.Alpha7Bit {
		limit = maxSeptets
	}
	switch {
	case udl > limit:
		return fmt.Errorf("user data length %d exceeds %d", udl, limit)
	case t.FirstOctet.UDHI() && udl == 0:
		return errors.New("TP-UDHI set but there is no user data")
	}
	return nil
}

// strictConcat reads the concatenation IE of a PDU we check rather than
// display, so a malformed one is an error instead of being ignored.
func strictConcat(udh tpdu.UserDataHeader) (*Concat, error) {
	var c *Concat
	for _, ie := range udh {
		switch ie.ID {
		case ieConcat8:
			if len(ie.Data) != 3 {
				return nil, fmt.Errorf("8-bit concatenation IE has %d octets, want 3", len(ie.Data))
			}
			c = &Concat{Ref: uint16(ie.Data[0]), Total: int(ie.Data[1]), Seq: int(ie.Data[2])}
		case ieConcat16:
			if len(ie.Data) != 4 {
				return nil, fmt.Errorf("16-bit concatenation IE has %d octets, want 4", len(ie.Data))
			}
			c = &Concat{Ref: uint16(ie.Data[0])<<8 | uint16(ie.Data[1]), Ref16: true, Total: int(ie.Data[2]), Seq: int(ie.Data[3])}
		default:
			continue
		}
		if c.Total == 0 || c.Seq < 1 || c.Seq > c.Total {
			return nil, fmt.Errorf("concatenation IE says part %d of %d", c.Seq, c.Total)
		}
	}
	return c, nil
}

// strictUTF16 decodes UTF-16BE, refusing what the library's decoder turns
// into U+FFFD: a high surrogate not followed by a low one, or a low one on
// its own. Our encoder never splits a pair, so a check must not forgive it.
func strictUTF16(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", errors.New("odd UCS2 length")
	}
	runes := make([]rune, 0, len(b)/2)
	for i := 0; i < len(b); i += 2 {
		u := rune(binary.BigEndian.Uint16(b[i:]))
		if !utf16.IsSurrogate(u) {
			runes = append(runes, u)
			continue
		}
		if u >= 0xdc00 || i+4 > len(b) {
			return "", fmt.Errorf("unpaired UTF-16 surrogate %U at octet %d", u, i)
		}
		r := utf16.DecodeRune(u, rune(binary.BigEndian.Uint16(b[i+2:])))
		if r == unicode.ReplacementChar {
			return "", fmt.Errorf("unpaired UTF-16 surrogate %U at octet %d", u, i)
		}
		runes = append(runes, r)
		i += 2
	}
	return string(runes), nil
}
