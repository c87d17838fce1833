package modemsim

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/warthog618/sms/encoding/gsm7"
	"github.com/warthog618/sms/encoding/ucs2"
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
	m.ussdMenu = false
	m.ack = nil
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

// simBlocked returns the error final result when the SIM cannot be used:
// absent, or waiting for PIN or PUK.
func (m *Modem) simBlocked(forSMS bool) (string, bool) {
	code := 0
	switch {
	case m.sim == nil:
		code = 10
	case m.sim.state == simPIN:
		code = 11
	case m.sim.state == simPUK:
		code = 12
	default:
		return "", false
	}
	if forSMS {
		// 27.005 3.2.5: 310 not inserted, 311 PIN, 316 PUK.
		return m.cms(map[int]int{10: 310, 11: 311, 12: 316}[code]), true
	}
	return m.cme(code), true
}

func (m *Modem) cmdIMSI(c command) response {
	if final, blocked := m.simBlocked(false); blocked {
		return fail(final)
	}
	return identity(c, m.sim.imsi)
}

func (m *Modem) cmdCNUM(c command) response {
	if final, blocked := m.simBlocked(false); blocked {
		return fail(final)
	}
	if c.op == 't' || !m.cfg.StoreHasOwnNumber {
		return ok()
	}
	return ok(fmt.Sprintf(`+CNUM: "","%s",145`, m.encodeText(m.sim.msisdn)))
}

func (m *Modem) cmdCSCA(c command) response {
	if final, blocked := m.simBlocked(false); blocked {
		return fail(final)
	}
	switch c.op {
	case '?':
		return ok(fmt.Sprintf(`+CSCA: "%s",145`, m.encodeText(m.cfg.SMSC)))
	case '=':
		number, err := m.decodeText(c.str(0))
		if err != nil || number == "" {
			return fail(m.cme(50))
		}
		m.cfg.SMSC = number
		return ok()
	case 't':
		return ok()
	}
	return fail("ERROR")
}

func (m *Modem) cmdCSQ(c command) response {
	switch c.op {
	case 0:
		if !m.radioOn {
			return ok("+CSQ: 99,99")
		}
		return ok(fmt.Sprintf("+CSQ: %d,99", m.rssi))
	case 't':
		return ok("+CSQ: (0-31,99),(0-7,99)")
	}
	return fail("ERROR")
}

// regStatus is the registration state the modem reports: no radio, no SIM
// or a locked SIM means not registered.
func (m *Modem) regStatus() int {
	switch {
	case !m.radioOn || m.sim == nil || m.sim.state != simReady:
		return 0
	case m.operator() == nil:
		return 3
	}
	return m.regStat
}

func (m *Modem) registered() bool {
	s := m.regStatus()
	return s == 1 || s == 5
}

// regSetting points at the presentation setting of +CREG, +CGREG or +CEREG.
func (m *Modem) regSetting(name string) *int {
	switch name {
	case "+CGREG":
		return &m.st.cgreg
	case "+CEREG":
		return &m.st.cereg
	}
	return &m.st.creg
}

func (m *Modem) regLine(name string, withN bool) string {
	n := *m.regSetting(name)
	s := fmt.Sprintf("%s: ", name)
	if withN {
		s += strconv.Itoa(n) + ","
	}
	s += strconv.Itoa(m.regStatus())
	if n == 2 && m.registered() {
		s += `,"00C3","B2F1"`
	}
	return s
}

func (m *Modem) cmdReg(c command) response {
	switch c.op {
	case '?':
		return ok(m.regLine(c.name, true))
	case 't':
		return ok(c.name + ": (0-2)")
	case '=':
		v, good := c.numOr(0, 0)
		if !good || v < 0 || v > 2 {
			return fail(m.cme(50))
		}
		*m.regSetting(c.name) = v
		return ok()
	}
	return fail("ERROR")
}

// regChanged announces a registration change to hosts that asked for it.
func (m *Modem) regChanged() {
	for _, name := range []string{"+CREG", "+CGREG", "+CEREG"} {
		if *m.regSetting(name) > 0 {
			m.urc(m.regLine(name, false))
		}
	}
}

func (m *Modem) cmdCGATT(c command) response {
	switch c.op {
	case '?':
		if m.registered() {
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
		if !m.registered() || op == nil {
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
			return fail(m.cme(50))
		}
		if mode == 3 {
			f, good := c.num(1)
			if !good || f < 0 || f > 2 {
				return fail(m.cme(50))
			}
			m.st.copsFormat = f
		}
		return ok()
	}
	return fail("ERROR")
}

func (m *Modem) cmdCPIN(c command) response {
	if m.sim == nil {
		return fail(m.cme(10))
	}
	switch c.op {
	case '?':
		return ok("+CPIN: " + [...]string{"READY", "SIM PIN", "SIM PUK"}[m.sim.state])
	case 't':
		return ok()
	case '=':
		return m.enterPIN(c.str(0), c.str(1))
	}
	return fail("ERROR")
}

// cmdCPINR answers the remaining PIN and PUK attempts (27.007 §8.65), so a
// host can tell whether trying a PIN is safe.
func (m *Modem) cmdCPINR(c command) response {
	if m.sim == nil {
		return fail(m.cme(10))
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

func (m *Modem) enterPIN(code, newPIN string) response {
	s := m.sim
	switch s.state {
	case simReady:
		return fail(m.cme(3))
	case simPIN:
		if code == s.pin {
			s.state, s.attempts = simReady, 3
			m.afterUnlock()
			return ok()
		}
		s.attempts--
		if s.attempts <= 0 {
			s.state, s.attempts = simPUK, 10
			return fail(m.cme(12))
		}
		return fail(m.cme(16))
	default:
		if code == defaultPUK && newPIN != "" {
			s.pin, s.state, s.attempts = newPIN, simReady, 3
			m.afterUnlock()
			return ok()
		}
		s.attempts--
		return fail(m.cme(16))
	}
}

// afterUnlock registers once the SIM opens and lets waiting SMS in.
func (m *Modem) afterUnlock() {
	m.regChanged()
	m.n.retrySoon()
}

func (m *Modem) cmdCFUN(c command) response {
	switch c.op {
	case '?':
		if m.radioOn {
			return ok("+CFUN: 1")
		}
		return ok("+CFUN: 0")
	case 't':
		return ok("+CFUN: (0,1,4),(0-1)")
	case '=':
		fun, good := c.num(0)
		rst, good2 := c.numOr(1, 0)
		if !good || !good2 || (fun != 0 && fun != 1 && fun != 4) {
			return fail(m.cme(50))
		}
		if rst == 1 {
			r := ok()
			r.after = append(r.after, m.Reboot)
			return r
		}
		was := m.registered()
		m.radioOn = fun == 1
		if was != m.registered() {
			m.regChanged()
		}
		if m.radioOn {
			m.n.retrySoon()
		}
		return ok()
	}
	return fail("ERROR")
}

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
		return fail(m.cme(4))
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
			return fail(m.cme(50))
		}
		m.st.cmee = v
		return ok()
	}
	return fail("ERROR")
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
	if final, blocked := m.simBlocked(false); blocked {
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
	if final, blocked := m.simBlocked(false); blocked {
		return fail(final)
	}
	cmd, good := c.num(0)
	file, good2 := c.num(1)
	if c.op != '=' || !good || !good2 {
		return fail(m.cme(50))
	}
	if cmd == 176 && file == 12258 {
		return ok(fmt.Sprintf(`+CRSM: 144,0,"%s"`, swapNibbles(m.sim.iccid)))
	}
	return ok("+CRSM: 106,130")
}

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
		return fail(m.cme(50))
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
		return fail(m.cme(50))
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
			return fail(m.cme(50))
		}
		*v = n
		return ok()
	case 't':
		return ok(name + ": (0-1)")
	}
	return fail("ERROR")
}

// encodeText renders a string parameter in the current AT+CSCS charset.
func (m *Modem) encodeText(s string) string {
	switch m.st.cscs {
	case "UCS2":
		return strings.ToUpper(hex.EncodeToString(ucs2.Encode([]rune(s))))
	case "HEX":
		septets, err := gsm7.Encode([]byte(s))
		if err != nil {
			return strings.ToUpper(hex.EncodeToString([]byte(s)))
		}
		return strings.ToUpper(hex.EncodeToString(septets))
	}
	return s
}

// decodeText reads a string parameter typed in the current charset.
func (m *Modem) decodeText(s string) (string, error) {
	switch m.st.cscs {
	case "UCS2":
		b, err := hex.DecodeString(s)
		if err != nil {
			return "", err
		}
		r, err := ucs2.Decode(b)
		return string(r), err
	case "HEX":
		b, err := hex.DecodeString(s)
		if err != nil {
			return "", err
		}
		t, err := gsm7.Decode(b)
		return string(t), err
	}
	return s, nil
}
