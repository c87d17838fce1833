package modemsim

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/warthog618/sms/encoding/gsm7"
	"github.com/warthog618/sms/encoding/ucs2"
)

// USSD is a modem's line to the operator's USSD service: the balance it
// reports, the two-step menu, and how answers are coded for the dialect
// and charset. Its state is guarded by the modem's mutex; SetBalance takes
// it.
type USSD struct {
	m *Modem

	balance  string
	ussdMenu bool
}

// USSD returns the modem's USSD service, for tests to set the balance.
func (m *Modem) USSD() *USSD { return &m.ussd }

// request recovers the code the host meant. Huawei sticks take it GSM
// 7-bit packed as hex; everything else in the current character set. A
// Huawei also copes with the charset form, as gammu sends it that way.
func (u *USSD) request(s string) string {
	m := u.m
	if m.cfg.Dialect == Huawei {
		if b, err := hex.DecodeString(s); err == nil && len(b) > 0 {
			if t, err := gsm7.Decode(gsm7.Unpack7BitUSSD(b, 0)); err == nil && looksLikeUSSD(string(t)) {
				return string(t)
			}
		}
	}
	if t, err := m.st.decodeText(s); err == nil {
		return t
	}
	return s
}

// answer is the operator's menu; mode 4 means "not supported".
func (u *USSD) answer(code string) (text string, mode int) {
	m := u.m
	op := m.operator()
	if u.ussdMenu {
		u.ussdMenu = false
		switch code {
		case "1":
			return op.balanceText(u.balance), 0
		case "2":
			return "Tariff: Smart, 450 r./month", 0
		}
		return "Wrong choice", 0
	}
	switch code {
	case op.balanceCode:
		return op.balanceText(u.balance), 0
	case op.ownCode:
		return op.ownText(m.sim.msisdn), 0
	case menuCode:
		u.ussdMenu = true
		return "1. Balance\n2. Tariff", 1
	}
	return "", 4
}

// cusdLine encodes an answer the way the dialect and charset dictate:
// Latin text as GSM 7-bit (packed hex on Huawei, UCS2 hex after
// AT+CSCS="UCS2"), Cyrillic always as UCS2 hex with DCS 72.
func (u *USSD) cusdLine(mode int, text string) string {
	m := u.m
	septets, err := gsm7.Encode([]byte(text))
	latin := err == nil
	ucs2Hex := strings.ToUpper(hex.EncodeToString(ucs2.Encode([]rune(text))))
	var body string
	dcs := 15
	switch {
	case !latin:
		body, dcs = ucs2Hex, 72
	case m.cfg.Dialect == Huawei:
		body = strings.ToUpper(hex.EncodeToString(gsm7.Pack7BitUSSD(septets, 0)))
	case m.st.cscs == "UCS2":
		body, dcs = ucs2Hex, 72
	case m.st.cscs == "HEX":
		body = strings.ToUpper(hex.EncodeToString(septets))
	default:
		body = text
	}
	return fmt.Sprintf(`+CUSD: %d,"%s",%d`, mode, body, dcs)
}

// SetBalance sets the amount text the balance code answers ("151,25").
func (u *USSD) SetBalance(amount string) {
	m := u.m
	m.mu.Lock()
	defer m.mu.Unlock()
	u.balance = amount
}
