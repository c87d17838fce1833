package modemsim

import (
	"fmt"
	"strings"
)

// Commands about the radio and the network: signal, registration (CREG,
// CGREG, CEREG and their indications), attach, operator and AT+CFUN.

func (m *Modem) cmdCSQ(c command) response {
	switch c.op {
	case 0:
		if !m.radio.radioOn {
			return ok("+CSQ: 99,99")
		}
		return ok(fmt.Sprintf("+CSQ: %d,99", m.radio.rssi))
	case 't':
		return ok("+CSQ: (0-31,99),(0-7,99)")
	}
	return fail("ERROR")
}

func (m *Modem) cmdReg(c command) response {
	switch c.op {
	case '?':
		return ok(m.radio.line(c.name, true))
	case 't':
		return ok(c.name + ": (0-2)")
	case '=':
		v, good := c.numOr(0, 0)
		if !good || v < 0 || v > 2 {
			return fail(m.st.cme(50))
		}
		*m.radio.setting(c.name) = v
		return ok()
	}
	return fail("ERROR")
}

func (m *Modem) cmdCGATT(c command) response {
	switch c.op {
	case '?':
		if m.radio.registered() {
			return ok("+CGATT: 1")
		}
		return ok("+CGATT: 0")
	case 't':
		return ok("+CGATT: (0,1)")
	case '=':
		return ok()
	}
	return fail("ERROR")
}

func (m *Modem) cmdCOPS(c command) response {
	op := m.operator()
	switch c.op {
	case '?':
		if !m.radio.registered() || op == nil {
			return ok("+COPS: 0")
		}
		name := [3]string{op.long, op.short, op.plmn}[m.st.copsFormat]
		return ok(fmt.Sprintf(`+COPS: 0,%d,"%s",%d`, m.st.copsFormat, name, m.info.act))
	case 't':
		var list []string
		for _, o := range operators {
			stat := 1
			if o == op {
				stat = 2
			}
			list = append(list, fmt.Sprintf(`(%d,"%s","%s","%s",%d)`, stat, o.long, o.short, o.plmn, m.info.act))
		}
		return ok("+COPS: " + strings.Join(list, ",") + ",,(0-4),(0-2)")
	case '=':
		mode, good := c.num(0)
		if !good {
			return fail(m.st.cme(50))
		}
		if mode == 3 {
			f, good := c.num(1)
			if !good || f < 0 || f > 2 {
				return fail(m.st.cme(50))
			}
			m.st.copsFormat = f
		}
		return ok()
	}
	return fail("ERROR")
}

func (m *Modem) cmdCFUN(c command) response {
	switch c.op {
	case '?':
		if m.radio.radioOn {
			return ok("+CFUN: 1")
		}
		return ok("+CFUN: 0")
	case 't':
		return ok("+CFUN: (0,1,4),(0-1)")
	case '=':
		fun, good := c.num(0)
		rst, good2 := c.numOr(1, 0)
		if !good || !good2 || (fun != 0 && fun != 1 && fun != 4) {
			return fail(m.st.cme(50))
		}
		if rst == 1 {
			r := ok()
			r.after = append(r.after, m.Reboot)
			return r
		}
		was := m.radio.registered()
		m.radio.radioOn = fun == 1
		if was != m.radio.registered() {
			m.radio.changed()
		}
		if m.radio.radioOn {
			m.n.retrySoon()
		}
		return ok()
	}
	return fail("ERROR")
}
