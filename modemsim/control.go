package modemsim

import (
	"fmt"
	"strings"
	"time"
)

// Fault injection and state changes driven by tests. All are safe for
// concurrent use with the host talking to the modem.

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

// SetBalance sets the amount text the balance code answers ("151,25").
func (m *Modem) SetBalance(amount string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.balance = amount
}

// Reboot loses all settings (echo on, CNMI, CMGF, CSCS, CMEE back to
// defaults) and sends the dialect's boot lines.
func (m *Modem) Reboot() {
	m.mu.Lock()
	m.st = m.defaultSettings()
	m.radio.radioOn = true
	m.ussdMenu = false
	m.ack = nil
	m.faults.hungTill = time.Time{}
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
	m.radio.radioOn = true
	m.ack = nil
	m.boot()
	m.n.retrySoon()
	return nil
}
