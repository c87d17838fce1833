package modemsim

import (
	"fmt"
	"strings"
)

// Vendor settings a driver sends to quiet or steer a modem: Huawei's
// ^CURC, ^USSDMODE and ^PORTSEL, Quectel's +QINDCFG. Each answers only in
// its own dialect, as the real firmware does.

func (m *Modem) cmdCURC(c command) response { return m.huaweiSwitch(c, "^CURC", &m.st.reports) }

// cmdQINDCFG switches Quectel's unsolicited reports by type; only "csq" (the
// periodic signal report) is modelled, other types are accepted and read 0.
// A third argument (save to NVRAM) is accepted and changes nothing here.
func (m *Modem) cmdQINDCFG(c command) response {
	if m.cfg.Dialect != Quectel {
		return fail("ERROR")
	}
	if c.op == 't' {
		return ok(`+QINDCFG: "all",(0,1),(0,1)`, `+QINDCFG: "csq",(0,1),(0,1)`)
	}
	typ := strings.ToLower(c.str(0))
	if c.op != '=' || typ == "" {
		return fail(m.st.cme(50))
	}
	v := new(int)
	if typ == "csq" {
		v = &m.st.reports
	}
	if len(c.args) == 1 {
		return ok(fmt.Sprintf(`+QINDCFG: "%s",%d`, typ, *v))
	}
	n, good := c.num(1)
	if !good || n < 0 || n > 1 {
		return fail(m.st.cme(50))
	}
	*v = n
	return ok()
}

func (m *Modem) cmdUSSDMode(c command) response {
	return m.huaweiSwitch(c, "^USSDMODE", &m.st.ussdMode)
}

// cmdPortSel picks the port Huawei sends URCs on; gammu sets it on every
// connect. The simulated stick has one AT port, so the choice is recorded
// for the read form only.
func (m *Modem) cmdPortSel(c command) response {
	return m.huaweiSwitch(c, "^PORTSEL", &m.st.portSel)
}

// huaweiSwitch answers a Huawei 0/1 setting: read, set and test forms.
func (m *Modem) huaweiSwitch(c command, name string, v *int) response {
	if m.cfg.Dialect != Huawei {
		return fail("ERROR")
	}
	switch c.op {
	case '?':
		return ok(fmt.Sprintf("%s: %d", name, *v))
	case '=':
		n, good := c.num(0)
		if !good || n < 0 || n > 1 {
			return fail(m.st.cme(50))
		}
		*v = n
		return ok()
	case 't':
		return ok(name + ": (0-1)")
	}
	return fail("ERROR")
}

// encodeText renders a string parameter in the current AT+CSCS charset.
