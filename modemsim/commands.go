package modemsim

import (
	"fmt"
	"strings"
)

type handler func(m *Modem, c command) response

// handlers maps command names to their implementation. Read-only after
// package initialisation.
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"E": (*Modem).cmdEcho, "V": (*Modem).cmdVerbose, "Q": okOnly, "Z": (*Modem).cmdReset,
		"&F": (*Modem).cmdReset, "&C": okOnly, "&D": okOnly, "&W": okOnly, "S": okOnly, "I": (*Modem).cmdInfo,
		"+CGMI": (*Modem).cmdManufacturer, "+GMI": (*Modem).cmdManufacturer,
		"+CGMM": (*Modem).cmdModel, "+GMM": (*Modem).cmdModel,
		"+CGMR": (*Modem).cmdRevision, "+GMR": (*Modem).cmdRevision,
		"+CGSN": (*Modem).cmdIMEI, "+GSN": (*Modem).cmdIMEI,
		"+GCAP": func(*Modem, command) response { return ok("+GCAP: +CGSM,+DS") },
		"+CIMI": (*Modem).cmdIMSI, "+CNUM": (*Modem).cmdCNUM, "+CSCA": (*Modem).cmdCSCA,
		"+CSQ": (*Modem).cmdCSQ, "+CREG": (*Modem).cmdReg, "+CGREG": (*Modem).cmdReg, "+CEREG": (*Modem).cmdReg,
		"+CGATT": (*Modem).cmdCGATT, "+COPS": (*Modem).cmdCOPS, "+CPIN": (*Modem).cmdCPIN, "+CPINR": (*Modem).cmdCPINR,
		"+CFUN": (*Modem).cmdCFUN, "+CSCS": (*Modem).cmdCSCS, "+CMEE": (*Modem).cmdCMEE,
		"^ICCID": (*Modem).cmdICCID, "+CCID": (*Modem).cmdICCID, "+QCCID": (*Modem).cmdICCID,
		"+CRSM": (*Modem).cmdCRSM, "^CURC": (*Modem).cmdCURC, "^USSDMODE": (*Modem).cmdUSSDMode,
		"^PORTSEL": (*Modem).cmdPortSel, "+QINDCFG": (*Modem).cmdQINDCFG,
		"+CMGF": (*Modem).cmdCMGF, "+CSMS": (*Modem).cmdCSMS, "+CPMS": (*Modem).cmdCPMS,
		"+CNMI": (*Modem).cmdCNMI, "+CMGS": (*Modem).cmdCMGS, "+CMGR": (*Modem).cmdCMGR,
		"+CMGL": (*Modem).cmdCMGL, "+CMGD": (*Modem).cmdCMGD, "+CNMA": (*Modem).cmdCNMA,
		"+CUSD": (*Modem).cmdCUSD,
	}
}

func ok(lines ...string) response { return response{lines: lines, final: "OK"} }
func fail(final string) response  { return response{final: final} }
func okOnly(*Modem, command) response {
	return ok()
}

func (m *Modem) cmdEcho(c command) response {
	switch c.str(0) {
	case "", "0":
		m.st.echo = false
	case "1":
		m.st.echo = true
	default:
		return fail("ERROR")
	}
	return ok()
}

// cmdVerbose accepts only ATV1: numeric result codes are not simulated.
func (m *Modem) cmdVerbose(c command) response {
	if s := c.str(0); s != "1" {
		return fail("ERROR")
	}
	return ok()
}

func (m *Modem) cmdReset(command) response {
	m.st = m.defaultSettings()
	m.ussd.ussdMenu = false
	m.rx.ack = nil
	return ok()
}

func (m *Modem) cmdInfo(command) response { return ok(m.atiLines()...) }

// identity answers a plain identity command; =? is accepted as a probe.
func identity(c command, v string) response {
	if c.op == 't' {
		return ok()
	}
	if c.op != 0 {
		return fail("ERROR")
	}
	return ok(v)
}

func (m *Modem) cmdManufacturer(c command) response { return identity(c, m.cfg.Manufacturer) }
func (m *Modem) cmdModel(c command) response        { return identity(c, m.cfg.Model) }
func (m *Modem) cmdRevision(c command) response     { return identity(c, m.cfg.Revision) }
func (m *Modem) cmdIMEI(c command) response         { return identity(c, m.cfg.IMEI) }

var charsets = []string{"GSM", "IRA", "UCS2", "HEX"}

func (m *Modem) cmdCSCS(c command) response {
	switch c.op {
	case '?':
		return ok(`+CSCS: "` + m.st.cscs + `"`)
	case 't':
		return ok(`+CSCS: ("GSM","IRA","UCS2","HEX")`)
	case '=':
		want := strings.ToUpper(c.str(0))
		for _, cs := range charsets {
			if want == cs {
				m.st.cscs = cs
				return ok()
			}
		}
		return fail(m.st.cme(4))
	}
	return fail("ERROR")
}

func (m *Modem) cmdCMEE(c command) response {
	switch c.op {
	case '?':
		return ok(fmt.Sprintf("+CMEE: %d", m.st.cmee))
	case 't':
		return ok("+CMEE: (0-2)")
	case '=':
		v, good := c.numOr(0, 0)
		if !good || v < 0 || v > 2 {
			return fail(m.st.cme(50))
		}
		m.st.cmee = v
		return ok()
	}
	return fail("ERROR")
}
