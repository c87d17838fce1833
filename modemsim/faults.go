package modemsim

import (
	"encoding/hex"
	"strings"
	"time"

	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// Faults are a modem's fault injection knobs, for tests: failing commands
// and sends, late or missing answers, mangled PDU lines, a hung port. They
// take effect for the next command the host sends and are safe for
// concurrent use with the host talking to the modem; their state is guarded
// by the modem's mutex.
type Faults struct {
	m *Modem

	latency  map[string]time.Duration
	cnmiShow string // AT+CNMI? answer regardless of the setting; "" = the setting
	failSend struct{ n, cms int }
	cutPDU   struct{ n, at int } // PDU lines to cut by a status line, and where
	garbled  int                 // PDU lines to show with a digit lost
	failCmds []commandFault
	lostURCs []lostURC
	ussdFail []USSDFault
	hungTill time.Time
}

// Faults returns the modem's fault injection knobs.
func (m *Modem) Faults() *Faults { return &m.faults }

// SetLatency delays the answer of commands starting with cmdPrefix ("" =
// all, "AT+CMGS" = sends, measured after the PDU) by d of virtual time.
// The longest matching prefix wins.
func (f *Faults) SetLatency(cmdPrefix string, d time.Duration) {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	f.latency[cmdPrefix] = d
}

// ShowCNMI makes AT+CNMI? answer line whatever was set, as firmware that
// reports its own normalised values does; "" restores the true answer.
func (f *Faults) ShowCNMI(line string) {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	f.cnmiShow = line
}

// HideICCID makes the ICCID unreadable (ICCIDRefused, ICCIDIgnored) or
// readable again (ICCIDShown); see ModemConfig.HideICCID.
func (f *Faults) HideICCID(how ICCIDHiding) {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.HideICCID = how
}

// FailSends makes the next n AT+CMGS answer "+CMS ERROR: cms".
func (f *Faults) FailSends(n int, cms int) {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	f.failSend.n, f.failSend.cms = n, cms
}

// CutPDULines makes the next n PDU lines that +CMGR and +CMGL show arrive
// cut in two after at hex digits by one of the dialect's status lines
// (Huawei: ^RSSI), as firmware does when a periodic report falls due in the
// middle of an answer. It applies whatever AT^CURC says, so tests can cut a
// line deterministically.
func (f *Faults) CutPDULines(n, at int) {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	f.cutPDU.n, f.cutPDU.at = n, at
}

// GarblePDULines makes the next n PDU lines that +CMGR and +CMGL show lose
// one hex digit in the middle, as an overrun UART loses a byte: no host can
// decode them. The stored message is intact.
func (f *Faults) GarblePDULines(n int) {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	f.garbled = n
}

// pduLine shows a stored message's PDU as +CMGR and +CMGL do, with the
// faults asked for. Called with m.mu held.
func (f *Faults) pduLine(msg *storedMsg) string {
	m := f.m
	line := strings.ToUpper(hex.EncodeToString(msg.pdu))
	if f.garbled > 0 && len(line) > 2 {
		f.garbled--
		mid := len(line) / 2
		line = line[:mid] + line[mid+1:]
	}
	if f.cutPDU.n > 0 && len(line) > 1 {
		f.cutPDU.n--
		at := min(max(f.cutPDU.at, 1), len(line)-1)
		line = line[:at] + "\r\n" + m.radio.noiseLine(0) + "\r\n" + line[at:]
	}
	return line
}

// FailCommand makes the next n commands starting with prefix answer final
// verbatim ("+CME ERROR: 14", "ERROR", "COMMAND NOT SUPPORT").
func (f *Faults) FailCommand(prefix string, n int, final string) {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	f.failCmds = append(f.failCmds, commandFault{prefix: prefix, n: n, final: final})
}

// LoseIndications makes the modem lose the next n unsolicited lines that
// start with prefix ("+CMTI", "+CDSI"), as firmware does in an indication
// mode that discards rather than buffers them while a command runs: what
// they announce is stored, and nobody hears of it.
func (f *Faults) LoseIndications(prefix string, n int) {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	f.lostURCs = append(f.lostURCs, lostURC{prefix: prefix, n: n})
}

// lostURC is how many more unsolicited lines starting with prefix to lose.
type lostURC struct {
	prefix string
	n      int
}

// loseURC reports whether an unsolicited line is to be lost, and counts it.
// Called with m.mu held.
func (f *Faults) loseURC(line string) bool {
	for i := range f.lostURCs {
		l := &f.lostURCs[i]
		if l.n > 0 && strings.HasPrefix(line, l.prefix) {
			l.n--
			return true
		}
	}
	return false
}

// FailUSSD makes the next USSD requests fail in the given shapes, in order.
func (f *Faults) FailUSSD(faults ...USSDFault) {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	f.ussdFail = append(f.ussdFail, faults...)
}

// Hang stops the modem reading and answering for d of virtual time; the
// host's writes block once the pty buffer fills.
func (f *Faults) Hang(d time.Duration) {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	f.hungTill = m.n.clock.Now().Add(d)
}

// FillStorage fills every SMS memory with read messages, so new messages
// cannot be stored until the host deletes some.
func (f *Faults) FillStorage() {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	filler := f.filler()
	if m.sim != nil {
		m.sim.sm.fill(filler)
	}
	if m.me != nil {
		m.me.fill(filler)
	}
}

func (f *Faults) hangLeft() time.Duration {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	return f.hungTill.Sub(m.n.clock.Now())
}

func (f *Faults) latencyFor(cmd string) time.Duration {
	best, bestLen := time.Duration(0), -1
	upper := strings.ToUpper(cmd)
	for prefix, d := range f.latency {
		if strings.HasPrefix(upper, strings.ToUpper(prefix)) && len(prefix) > bestLen {
			best, bestLen = d, len(prefix)
		}
	}
	return best
}

func (f *Faults) takeFault(cmd string) (string, bool) {
	upper := strings.ToUpper(cmd)
	for i := range f.failCmds {
		c := &f.failCmds[i]
		if c.n > 0 && strings.HasPrefix(upper, strings.ToUpper(c.prefix)) {
			c.n--
			return c.final, true
		}
	}
	return "", false
}

// filler is the old, read SMS FillStorage stuffs the memories with.
// Called with m.mu held.
func (f *Faults) filler() *storedMsg {
	m := f.m
	d, _ := tpdu.NewDeliver()
	d.OA = internationalAddress("+79000000000")
	d.SCTS = tpdu.Timestamp{Time: m.n.moscowNow()}
	d.UD = tpdu.UserData("old message") // plain ASCII letters are valid GSM 7-bit septets
	b, err := d.MarshalBinary()
	if err != nil {
		m.log.Error("sim: filler SMS", "err", err)
	}
	smsc := pdumode.SMSCAddress{Address: tpdu.NewAddress(tpdu.FromNumber(m.cfg.SMSC))}
	sc, _ := smsc.MarshalBinary()
	return &storedMsg{stat: statRecRead, pdu: append(sc, b...), tpduLen: len(b)}
}
