package modemsim

import (
	"fmt"
	"time"
)

// Power and USB events driven by tests: a reboot, unplugging and plugging
// back in. All are safe for concurrent use with the host talking to the
// modem; the other knobs are grouped by job behind Faults, Radio, SIM,
// USSD and Record.

// Reboot loses all settings (echo on, CNMI, CMGF, CSCS, CMEE back to
// defaults) and sends the dialect's boot lines.
func (m *Modem) Reboot() {
	m.mu.Lock()
	m.st = m.defaultSettings()
	m.radio.radioOn = true
	m.ussd.ussdMenu = false
	m.rx.ack = nil
	m.faults.hungTill = time.Time{}
	m.at.line, m.at.pdu = nil, nil
	m.boot()
	m.mu.Unlock()
	m.n.retrySoon()
}

// RebootLoop reboots the modem times times, every (virtual time) apart, as a
// modem on a weak USB supply or with autosuspend on does: a storm of boot
// lines. The channel closes after the last reboot, or when the network
// closes first.
func (m *Modem) RebootLoop(times int, every time.Duration) <-chan struct{} {
	done := make(chan struct{})
	started := m.n.spawn(func(<-chan struct{}) {
		defer close(done)
		for i := 0; i < times; i++ {
			if i > 0 && !m.n.sleep(every) {
				return
			}
			m.Reboot()
		}
	})
	if !started {
		close(done)
	}
	return done
}

// boot sends the power-up lines. Called with m.mu held.
func (m *Modem) boot() {
	for _, l := range m.info.bootLines {
		m.at.urc(l)
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
	m.rx.ack = nil
	m.boot()
	m.n.retrySoon()
	return nil
}
