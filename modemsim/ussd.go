package modemsim

import (
	"strings"
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
		m.ussd.ussdMenu = false
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
	code := m.ussd.request(c.str(1))
	text, mode := m.ussd.answer(code)
	var lines [][]string
	if mode == 4 {
		lines = append(lines, []string{"+CUSD: 4"})
	} else {
		lines = append(lines, []string{m.ussd.cusdLine(mode, text)})
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
			lines = append([][]string{{m.ussd.cusdLine(2, "Session ended")}}, lines...)
		case USSDSilent:
			lines = nil
		}
		if f != USSDTerminatedFirst {
			m.ussd.ussdMenu = false
		}
	}
	r := ok()
	r.after = []func(){func() {
		m.n.after(m.n.opts.DeliveryDelay, func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, l := range lines {
				m.at.urc(l...)
			}
		})
	}}
	return r
}

func looksLikeUSSD(s string) bool {
	return s != "" && strings.Trim(s, "0123456789*#+") == ""
}
