package modemsim

// SIMSlot is where a modem's SIM card sits: taking the card out, putting
// one in, locking it with a PIN, and the answers a missing or locked card
// gives. The card itself is the modem's sim field, guarded by its mutex;
// the exported methods take it.
type SIMSlot struct {
	m *Modem
}

// SIM returns the modem's SIM slot, for tests to swap, remove or lock the
// card.
func (m *Modem) SIM() *SIMSlot { return &m.slot }

// Remove takes the SIM out; its SMS storage goes with it.
func (s *SIMSlot) Remove() {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	was := m.radio.status()
	m.sim = nil
	if was != m.radio.status() {
		m.radio.changed()
	}
}

// Insert puts in a (new) SIM with empty storage; the modem registers on
// the network its IMSI belongs to.
func (s *SIMSlot) Insert(iccid, imsi, msisdn string) {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sim = newSIM(iccid, imsi, msisdn, m.cfg.SIMCapacity, m.info.firstIndex)
	m.cfg.ICCID, m.cfg.IMSI, m.cfg.MSISDN = iccid, imsi, msisdn
	if op := m.operator(); op != nil {
		m.cfg.PLMN, m.cfg.SMSC = op.plmn, op.smsc
	}
	m.radio.changed()
	m.n.retrySoon()
}

// SetPIN locks the SIM with pin: it needs AT+CPIN="<pin>"; three wrong
// attempts block it until AT+CPIN="12345678","<new pin>".
func (s *SIMSlot) SetPIN(pin string) {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sim == nil {
		return
	}
	m.sim.pin, m.sim.state, m.sim.attempts = pin, simPIN, 3
	m.radio.changed()
}

// blocked returns the error final result when the SIM cannot be used:
// absent, or waiting for PIN or PUK.
func (s *SIMSlot) blocked(forSMS bool) (string, bool) {
	m := s.m
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
		return m.st.cms(map[int]int{10: 310, 11: 311, 12: 316}[code]), true
	}
	return m.st.cme(code), true
}

func (s *SIMSlot) enterPIN(code, newPIN string) response {
	m := s.m
	card := m.sim
	switch card.state {
	case simReady:
		return fail(m.st.cme(3))
	case simPIN:
		if code == card.pin {
			card.state, card.attempts = simReady, 3
			s.afterUnlock()
			return ok()
		}
		card.attempts--
		if card.attempts <= 0 {
			card.state, card.attempts = simPUK, 10
			return fail(m.st.cme(12))
		}
		return fail(m.st.cme(16))
	default:
		if code == defaultPUK && newPIN != "" {
			card.pin, card.state, card.attempts = newPIN, simReady, 3
			s.afterUnlock()
			return ok()
		}
		card.attempts--
		return fail(m.st.cme(16))
	}
}

// afterUnlock registers once the SIM opens and lets waiting SMS in.
func (s *SIMSlot) afterUnlock() {
	m := s.m
	m.radio.changed()
	m.n.retrySoon()
}
