package atcmd

import (
	"strings"
	"time"
)

// Indication is one unsolicited line (URC) from the modem.
type Indication struct {
	Name string // "+CMTI", "+CMT", "RING", "RDY", "^RSSI", "+QIND", ...
	Line string // the whole first line
	PDU  string // the second line for +CMT and +CDS, "" otherwise
	At   time.Time
}

// IsReboot reports whether the indication announces that the modem has just
// started: "RDY" (SIMCom, Quectel), an unsolicited "+CFUN: 1" (part of the same
// boot burst) and Cinterion's "^SYSSTART". Huawei's "^BOOT:" is not one: some
// firmware repeats it every few seconds as a keep-alive. "Call Ready",
// "SMS Ready" and "+CPIN: READY" also follow a SIM re-insertion or radio
// toggle, so they are not proof of a restart either.
func (i Indication) IsReboot() bool {
	switch strings.ToUpper(i.Name) {
	case "RDY", "^SYSSTART":
		return true
	case "+CFUN":
		_, state, _ := strings.Cut(i.Line, ":")
		return strings.TrimSpace(state) == "1"
	}
	return false
}

// lineName is the prefix that names a line: the text before ':' for lines
// such as "+CMTI: ..." or "^RSSI:15", otherwise the whole line ("RING",
// "Call Ready").
func lineName(line string) string {
	if i := strings.IndexByte(line, ':'); i > 0 && isPrefixStart(line[0]) && !strings.ContainsRune(line[:i], '"') {
		return line[:i]
	}
	return line
}

func isPrefixStart(b byte) bool {
	return b == '+' || b == '^' || b == '*' || b == '#' || b == '$' || b == '%'
}

// takesPDULine reports whether an indication's next line belongs to it.
func takesPDULine(name string) bool {
	n := strings.ToUpper(name)
	return n == "+CMT" || n == "+CDS"
}

// urcNames are the 3GPP and vendor unsolicited results; the families below
// are matched by prefix. Sources: TS 27.007/27.005 and the field notes.
var urcNames = map[string]bool{
	"+CMTI": true, "+CMT": true, "+CDS": true, "+CDSI": true, "+CBM": true, "+CBMI": true,
	"+CUSD": true, "+CREG": true, "+CGREG": true, "+CEREG": true, "+C5GREG": true,
	"+CRING": true, "RING": true, "+CLIP": true, "+CCWA": true, "+CSSI": true, "+CSSU": true,
	"+CIEV": true, "+CFUN": true, "+CPIN": true, "+CGEV": true, "+CTZV": true, "+CTZE": true,
	"+CTZU": true, "+CUSATP": true, "+CUSATEND": true, "+STIN": true,
	"RDY": true, "CALL READY": true, "SMS READY": true, "+PSUTTZ": true, "*PSUTTZ": true,
	"DST": true, "+SIMCARD": true, "NORMAL POWER DOWN": true, "UNDER-VOLTAGE POWER DOWN": true,
	"UNDER-VOLTAGE WARNNING": true, "OVER-VOLTAGE POWER DOWN": true, "OVER-VOLTAGE WARNNING": true,
	"+PBREADY": true, "^SYSSTART": true,
}

// isURCName reports whether a line named name is unsolicited by nature.
// Huawei (^...), Quectel (+Q...) and ZTE (+Z...) vendor lines are matched as
// families because their firmware keeps adding new ones.
func isURCName(name string, extra []string) bool {
	n := strings.ToUpper(name)
	if strings.HasPrefix(n, "^") || strings.HasPrefix(n, "+Q") || strings.HasPrefix(n, "+Z") {
		return true
	}
	return isNamedURC(name, extra)
}

// isNamedURC reports whether name is one of the URCs known by name, leaving
// out the vendor families: a vendor set command such as
// AT+QCFG="nwscanmode" answers with its own prefix.
func isNamedURC(name string, extra []string) bool {
	if urcNames[strings.ToUpper(name)] {
		return true
	}
	for _, e := range extra {
		if strings.EqualFold(e, name) {
			return true
		}
	}
	return false
}
