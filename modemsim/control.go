package modemsim

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Fault injection and state changes driven by tests. All are safe for
// concurrent use with the host talking to the modem.

// SetLatency delays the answer of commands starting with cmdPrefix ("" =
// all, "AT+CMGS" = sends, measured after the PDU) by d of virtual time.
// The longest matching prefix wins.
func (m *Modem) SetLatency(cmdPrefix string, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.latency[cmdPrefix] = d
}

// ShowCNMI makes AT+CNMI? answer line whatever was set, as firmware that
// reports its own normalised values does; "" restores the true answer.
func (m *Modem) ShowCNMI(line string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cnmiShow = line
}

// Stored counts the messages in memory mem ("SM", "ME", "SR"); -1 when
// the modem has no such memory.
func (m *Modem) Stored(mem string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.storeNamed(mem)
	if s == nil {
		return -1
	}
	return s.used()
}

// Commands counts the command lines received that start with prefix.
func (m *Modem) Commands(prefix string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for line, c := range m.commands {
		if strings.HasPrefix(line, prefix) {
			n += c
		}
	}
	return n
}

// CommandTimes returns when each command line starting with prefix ("" =
// every command) arrived, in virtual time, oldest first.
func (m *Modem) CommandTimes(prefix string) []time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []time.Time
	for _, c := range m.cmdLog {
		if strings.HasPrefix(c.line, prefix) {
			out = append(out, c.at)
		}
	}
	return out
}

// HideICCID makes the ICCID unreadable (ICCIDRefused, ICCIDIgnored) or
// readable again (ICCIDShown); see ModemConfig.HideICCID.
func (m *Modem) HideICCID(how ICCIDHiding) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.HideICCID = how
}

// FailSends makes the next n AT+CMGS answer "+CMS ERROR: cms".
func (m *Modem) FailSends(n int, cms int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failSend.n, m.failSend.cms = n, cms
}

// CutPDULines makes the next n PDU lines that +CMGR and +CMGL show arrive
// cut in two after at hex digits by one of the dialect's status lines
// (Huawei: ^RSSI), as firmware does when a periodic report falls due in the
// middle of an answer. It applies whatever AT^CURC says, so tests can cut a
// line deterministically.
func (m *Modem) CutPDULines(n, at int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cutPDU.n, m.cutPDU.at = n, at
}

// GarblePDULines makes the next n PDU lines that +CMGR and +CMGL show lose
// one hex digit in the middle, as an overrun UART loses a byte: no host can
// decode them. The stored message is intact.
func (m *Modem) GarblePDULines(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.garbled = n
}

// pduLine shows a stored message's PDU as +CMGR and +CMGL do, with the
// faults asked for. Called with m.mu held.
func (m *Modem) pduLine(msg *storedMsg) string {
	line := strings.ToUpper(hex.EncodeToString(msg.pdu))
	if m.garbled > 0 && len(line) > 2 {
		m.garbled--
		mid := len(line) / 2
		line = line[:mid] + line[mid+1:]
	}
	if m.cutPDU.n > 0 && len(line) > 1 {
		m.cutPDU.n--
		at := min(max(m.cutPDU.at, 1), len(line)-1)
		line = line[:at] + "\r\n" + m.noiseLine(0) + "\r\n" + line[at:]
	}
	return line
}

// FailCommand makes the next n commands starting with prefix answer final
// verbatim ("+CME ERROR: 14", "ERROR", "COMMAND NOT SUPPORT").
func (m *Modem) FailCommand(prefix string, n int, final string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failCmds = append(m.failCmds, commandFault{prefix: prefix, n: n, final: final})
}

// FailUSSD makes the next USSD requests fail in the given shapes, in order.
func (m *Modem) FailUSSD(faults ...USSDFault) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ussdFail = append(m.ussdFail, faults...)
}

// SetBalance sets the amount text the balance code answers ("151,25").
func (m *Modem) SetBalance(amount string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.balance = amount
}

// Hang stops the modem reading and answering for d of virtual time; the
// host's writes block once the pty buffer fills.
func (m *Modem) Hang(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hungTill = m.n.clock.Now().Add(d)
}

// Reboot loses all settings (echo on, CNMI, CMGF, CSCS, CMEE back to
// defaults) and sends the dialect's boot lines.
func (m *Modem) Reboot() {
	m.mu.Lock()
	m.st = m.defaultSettings()
	m.radioOn = true
	m.ussdMenu = false
	m.ack = nil
	m.hungTill = time.Time{}
	m.line, m.pdu = nil, nil
	m.boot()
	m.mu.Unlock()
	m.n.retrySoon()
}

// boot sends the power-up lines. Called with m.mu held.
func (m *Modem) boot() {
	for _, l := range m.info.bootLines {
		m.urc(l)
	}
}

// Vanish unplugs the modem: the pty closes (the host's read fails with
// EIO) and its sysfs and dev entries go away.
func (m *Modem) Vanish() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unplug()
}

// Return plugs a vanished modem back in, under newTTY when given (as the
// kernel often picks another ttyUSB number), with a fresh pty and boot lines.
func (m *Modem) Return(newTTY string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.port != nil {
		return fmt.Errorf("sim: modem %s is still plugged in", m.cfg.Name)
	}
	old := m.cfg.TTY
	if newTTY != "" {
		m.cfg.TTY = newTTY
	}
	m.plugs++
	if err := m.plug(); err != nil {
		m.cfg.TTY = old
		return err
	}
	m.st = m.defaultSettings()
	m.radioOn = true
	m.ack = nil
	m.boot()
	m.n.retrySoon()
	return nil
}

// SetRegistration sets the network registration state (0 not registered,
// 1 home, 2 searching, 3 denied, 5 roaming) and sends +CREG URCs to hosts
// that enabled them.
func (m *Modem) SetRegistration(stat int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	was := m.regStatus()
	m.regStat = stat
	if m.regStatus() != was {
		m.regChanged()
	}
	if m.registered() {
		m.n.retrySoon()
	}
}

// SetSignal sets the +CSQ rssi (0..31, 99 unknown).
func (m *Modem) SetSignal(rssi int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rssi = rssi
}

// RemoveSIM takes the SIM out; its SMS storage goes with it.
func (m *Modem) RemoveSIM() {
	m.mu.Lock()
	defer m.mu.Unlock()
	was := m.regStatus()
	m.sim = nil
	if was != m.regStatus() {
		m.regChanged()
	}
}

// InsertSIM puts in a (new) SIM with empty storage; the modem registers on
// the network its IMSI belongs to.
func (m *Modem) InsertSIM(iccid, imsi, msisdn string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sim = newSIM(iccid, imsi, msisdn, m.cfg.SIMCapacity, m.info.firstIndex)
	m.cfg.ICCID, m.cfg.IMSI, m.cfg.MSISDN = iccid, imsi, msisdn
	if op := m.operator(); op != nil {
		m.cfg.PLMN, m.cfg.SMSC = op.plmn, op.smsc
	}
	m.regChanged()
	m.n.retrySoon()
}

// SetPIN locks the SIM with pin: it needs AT+CPIN="<pin>"; three wrong
// attempts block it until AT+CPIN="12345678","<new pin>".
func (m *Modem) SetPIN(pin string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sim == nil {
		return
	}
	m.sim.pin, m.sim.state, m.sim.attempts = pin, simPIN, 3
	m.regChanged()
}

// FillStorage fills every SMS memory with read messages, so new messages
// cannot be stored until the host deletes some.
func (m *Modem) FillStorage() {
	m.mu.Lock()
	defer m.mu.Unlock()
	filler := m.fillerMessage()
	if m.sim != nil {
		m.sim.sm.fill(filler)
	}
	if m.me != nil {
		m.me.fill(filler)
	}
}

// noiseLoop sends the periodic status lines some firmware never stops
// sending.
func (m *Modem) noiseLoop(done <-chan struct{}, period time.Duration) {
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		case <-m.n.clock.After(period):
		}
		m.mu.Lock()
		if m.st.reports == 1 {
			m.urc(m.noiseLine(i))
		}
		m.mu.Unlock()
	}
}

func (m *Modem) noiseLine(i int) string {
	switch m.cfg.Dialect {
	case Huawei:
		lines := []string{fmt.Sprintf("^RSSI:%d", m.rssi), "^MODE:5,4", "^SRVST:2", `^HCSQ:"WCDMA",43,39,57`}
		return lines[i%len(lines)]
	case Quectel:
		return fmt.Sprintf(`+QIND: "csq",%d,99`, m.rssi)
	case SIMCom:
		return fmt.Sprintf("+CSQN: %d,99", m.rssi)
	}
	return fmt.Sprintf("+CIEV: 2,%d", min(5, m.rssi/6))
}
