package modemsim

import (
	"fmt"
	"strings"
)

// Commands about the card: its identity (IMSI, own number, SMSC, ICCID
// in each vendor's form, AT+CRSM), PIN and PUK. A missing or locked SIM
// answers as real modems do (SIMSlot.blocked).

func (m *Modem) cmdIMSI(c command) response {
	if final, blocked := m.slot.blocked(false); blocked {
		return fail(final)
	}
	return identity(c, m.sim.imsi)
}

func (m *Modem) cmdCNUM(c command) response {
	if final, blocked := m.slot.blocked(false); blocked {
		return fail(final)
	}
	if c.op == 't' || !m.cfg.StoreHasOwnNumber {
		return ok()
	}
	return ok(fmt.Sprintf(`+CNUM: "","%s",145`, m.st.encodeText(m.sim.msisdn)))
}

func (m *Modem) cmdCSCA(c command) response {
	if final, blocked := m.slot.blocked(false); blocked {
		return fail(final)
	}
	switch c.op {
	case '?':
		return ok(fmt.Sprintf(`+CSCA: "%s",145`, m.st.encodeText(m.cfg.SMSC)))
	case '=':
		number, err := m.st.decodeText(c.str(0))
		if err != nil || number == "" {
			return fail(m.st.cme(50))
		}
		m.cfg.SMSC = number
		return ok()
	case 't':
		return ok()
	}
	return fail("ERROR")
}

func (m *Modem) cmdCPIN(c command) response {
	if m.sim == nil {
		return fail(m.st.cme(10))
	}
	switch c.op {
	case '?':
		return ok("+CPIN: " + [...]string{"READY", "SIM PIN", "SIM PUK"}[m.sim.state])
	case 't':
		return ok()
	case '=':
		return m.slot.enterPIN(c.str(0), c.str(1))
	}
	return fail("ERROR")
}

// cmdCPINR answers the remaining PIN and PUK attempts (27.007 §8.65), so a
// host can tell whether trying a PIN is safe.
func (m *Modem) cmdCPINR(c command) response {
	if m.sim == nil {
		return fail(m.st.cme(10))
	}
	pin, puk := 3, 10
	switch m.sim.state {
	case simPIN:
		pin = m.sim.attempts
	case simPUK:
		pin, puk = 0, m.sim.attempts
	}
	lines := []string{fmt.Sprintf("+CPINR: SIM PIN,%d,3", pin), fmt.Sprintf("+CPINR: SIM PUK,%d,10", puk)}
	if c.op == '=' {
		switch strings.ToUpper(c.str(0)) {
		case "SIM PIN":
			lines = lines[:1]
		case "SIM PUK":
			lines = lines[1:]
		}
	}
	return ok(lines...)
}

// cmdICCID answers the vendor ICCID command of the modem's own dialect only.
func (m *Modem) cmdICCID(c command) response {
	want := map[Dialect]string{Huawei: "^ICCID", SIMCom: "+CCID", Quectel: "+QCCID"}[m.cfg.Dialect]
	if m.cfg.HideICCID != ICCIDShown {
		return m.cfg.HideICCID.refusal()
	}
	if c.name != want {
		return fail("ERROR")
	}
	if c.op == 't' {
		return ok()
	}
	if final, blocked := m.slot.blocked(false); blocked {
		return fail(final)
	}
	switch m.cfg.Dialect {
	case Huawei:
		return ok("^ICCID: " + swapNibbles(m.sim.iccid))
	case Quectel:
		return ok("+QCCID: " + m.sim.iccid)
	}
	return ok(m.sim.iccid)
}

// cmdCRSM reads EF_ICCID (27.007 +CRSM READ BINARY of file 2FE2 = 12258);
// other files are reported as not found (SW 6A82).
func (m *Modem) cmdCRSM(c command) response {
	if m.cfg.HideICCID != ICCIDShown {
		return m.cfg.HideICCID.refusal()
	}
	if c.op == 't' {
		return ok()
	}
	if final, blocked := m.slot.blocked(false); blocked {
		return fail(final)
	}
	cmd, good := c.num(0)
	file, good2 := c.num(1)
	if c.op != '=' || !good || !good2 {
		return fail(m.st.cme(50))
	}
	if cmd == 176 && file == 12258 {
		return ok(fmt.Sprintf(`+CRSM: 144,0,"%s"`, swapNibbles(m.sim.iccid)))
	}
	return ok("+CRSM: 106,130")
}
