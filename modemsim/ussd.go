package modemsim

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/warthog618/sms/encoding/gsm7"
	"github.com/warthog618/sms/encoding/ucs2"
)

// USSDFault is a failure shape of a USSD request seen in the field.
type USSDFault int

const (
	// USSDErrorAfterOK answers OK, then "+CME ERROR: 258" instead of +CUSD.
	USSDErrorAfterOK USSDFault = iota + 1
	// USSDNetworkTimeout answers "+CUSD: 5".
	USSDNetworkTimeout
	// USSDTerminatedFirst sends a "+CUSD: 2" before the real answer.
	USSDTerminatedFirst
	// USSDSilent answers OK and then nothing at all.
	USSDSilent
)

// menuCode opens the two-step menu every simulated operator offers.
const menuCode = "*111#"

func (m *Modem) cmdCUSD(c command) response {
	switch c.op {
	case '?':
		return ok("+CUSD: 0")
	case 't':
		return ok("+CUSD: (0-2)")
	case '=':
	default:
		return fail("ERROR")
	}
	n, good := c.numOr(0, 0)
	if !good || n < 0 || n > 2 {
		return fail(m.st.cme(50))
	}
	if n == 2 {
		m.ussdMenu = false
		return ok()
	}
	if len(c.args) < 2 {
		return ok() // only switches result code presentation
	}
	if final, blocked := m.slot.blocked(false); blocked {
		return fail(final)
	}
	if !m.radio.registered() {
		return fail(m.st.cme(30))
	}
	code := m.ussdRequest(c.str(1))
	text, mode := m.ussdAnswer(code)
	var lines [][]string
	if mode == 4 {
		lines = append(lines, []string{"+CUSD: 4"})
	} else {
		lines = append(lines, []string{m.cusdLine(mode, text)})
	}
	if len(m.faults.ussdFail) > 0 {
		f := m.faults.ussdFail[0]
		m.faults.ussdFail = m.faults.ussdFail[1:]
		switch f {
		case USSDErrorAfterOK:
			lines = [][]string{{"+CME ERROR: 258"}}
		case USSDNetworkTimeout:
			lines = [][]string{{"+CUSD: 5"}}
		case USSDTerminatedFirst:
			lines = append([][]string{{m.cusdLine(2, "Session ended")}}, lines...)
		case USSDSilent:
			lines = nil
		}
		if f != USSDTerminatedFirst {
			m.ussdMenu = false
		}
	}
	r := ok()
	r.after = []func(){func() {
		m.n.after(m.n.opts.DeliveryDelay, func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, l := range lines {
				m.urc(l...)
			}
		})
	}}
	return r
}

// ussdRequest recovers the code the host meant. Huawei sticks take it GSM
// 7-bit packed as hex; everything else in the current character set. A
// Huawei also copes with the charset form, as gammu sends it that way.
func (m *Modem) ussdRequest(s string) string {
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

func looksLikeUSSD(s string) bool {
	return s != "" && strings.Trim(s, "0123456789*#+") == ""
}

// ussdAnswer is the operator's menu; mode 4 means "not supported".
func (m *Modem) ussdAnswer(code string) (text string, mode int) {
	op := m.operator()
	if m.ussdMenu {
		m.ussdMenu = false
		switch code {
		case "1":
			return op.balanceText(m.balance), 0
		case "2":
			return "Tariff: Smart, 450 r./month", 0
		}
		return "Wrong choice", 0
	}
	switch code {
	case op.balanceCode:
		return op.balanceText(m.balance), 0
	case op.ownCode:
		return op.ownText(m.sim.msisdn), 0
	case menuCode:
		m.ussdMenu = true
		return "1. Balance\n2. Tariff", 1
	}
	return "", 4
}

// cusdLine encodes an answer the way the dialect and charset dictate:
// Latin text as GSM 7-bit (packed hex on Huawei, UCS2 hex after
// AT+CSCS="UCS2"), Cyrillic always as UCS2 hex with DCS 72.
func (m *Modem) cusdLine(mode int, text string) string {
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
