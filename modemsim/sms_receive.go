package modemsim

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// Stored messages read, listed and deleted, and messages arriving from the
// network: stored with +CMTI or delivered with +CMT and an acknowledgement
// awaited. All run with m.mu held, as in sms.go.

func (m *Modem) cmdCMGR(c command) response {
	if c.op == 't' {
		return ok()
	}
	if final, blocked := m.slot.blocked(true); blocked {
		return fail(final)
	}
	idx, good := c.num(0)
	s := m.storeNamed(m.cpms[0])
	if c.op != '=' || !good || !s.valid(idx) {
		return fail(m.st.cms(321))
	}
	msg := s.get(idx)
	if msg == nil {
		if m.cfg.Dialect == Huawei {
			return ok()
		}
		return fail(m.st.cms(321))
	}
	lines := []string{fmt.Sprintf("+CMGR: %d,,%d", msg.stat, msg.tpduLen), m.faults.pduLine(msg)}
	if msg.stat == statRecUnread {
		msg.stat = statRecRead
	}
	return ok(lines...)
}

func (m *Modem) cmdCMGL(c command) response {
	if c.op == 't' {
		return ok("+CMGL: (0-4)")
	}
	if final, blocked := m.slot.blocked(true); blocked {
		return fail(final)
	}
	want, good := c.numOr(0, statRecUnread)
	if !good || want < 0 || want > 4 {
		return fail(m.st.cms(302))
	}
	s := m.storeNamed(m.cpms[0])
	var lines []string
	for i, msg := range s.slots {
		if msg == nil || (want != 4 && msg.stat != want) {
			continue
		}
		lines = append(lines, fmt.Sprintf("+CMGL: %d,%d,,%d", i+s.first, msg.stat, msg.tpduLen), m.faults.pduLine(msg))
		if msg.stat == statRecUnread {
			msg.stat = statRecRead
		}
	}
	return ok(lines...)
}

func (m *Modem) cmdCMGD(c command) response {
	if final, blocked := m.slot.blocked(true); blocked {
		return fail(final)
	}
	s := m.storeNamed(m.cpms[0])
	if c.op == 't' {
		var used []string
		for i, msg := range s.slots {
			if msg != nil {
				used = append(used, fmt.Sprint(i+s.first))
			}
		}
		return ok(fmt.Sprintf("+CMGD: (%s),(0-4)", strings.Join(used, ",")))
	}
	idx, good := c.num(0)
	flag, good2 := c.numOr(1, 0)
	if c.op != '=' || !good2 || flag < 0 || flag > 4 {
		return fail(m.st.cms(302))
	}
	if flag == 0 {
		if !good || !s.valid(idx) {
			return fail(m.st.cms(321))
		}
		s.del(idx)
	}
	for i, msg := range s.slots {
		// 27.005: 1 read, 2 read+sent, 3 read+sent+unsent, 4 all.
		if msg != nil && (flag == 4 || (flag >= 1 && msg.stat == statRecRead) || (flag >= 2 && msg.stat == 3) || (flag >= 3 && msg.stat == 2)) {
			s.slots[i] = nil
		}
	}
	m.n.retrySoon()
	return ok()
}

func (m *Modem) cmdCNMA(c command) response {
	if c.op == 't' {
		return ok("+CNMA: (0-2)")
	}
	if m.rx.ack == nil {
		return fail(m.st.cms(340))
	}
	m.rx.ack = nil
	m.n.retrySoon()
	return ok()
}

// smsReceiver takes what the network delivers to a modem: an SMS or a
// status report goes to the host directly (+CMT, +CDS) with the AT+CNMA
// window of AT+CSMS=1, or into storage with a +CMTI/+CDSI indication.
// Its state is guarded by the modem's mutex.
type smsReceiver struct {
	m *Modem

	ack    *pendingAck
	ackSeq int
}

// receive is the network handing the modem an SMS-DELIVER or a status
// report; false means "not now", and the network keeps it for later.
func (rx *smsReceiver) receive(d delivery) bool {
	m := rx.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.port == nil || m.faults.hungTill.After(m.n.clock.Now()) || !m.radio.registered() {
		return false
	}
	smsc := pdumode.SMSCAddress{Address: tpdu.NewAddress(tpdu.FromNumber(m.cfg.SMSC))}
	sc, err := smsc.MarshalBinary()
	if err != nil {
		m.log.Error("sim: SMSC address", "err", err)
		return false
	}
	pdu := append(sc, d.tpdu...)
	pduHex := strings.ToUpper(hex.EncodeToString(pdu))
	mt, ds := m.st.cnmi[1], m.st.cnmi[3]
	if d.report {
		switch ds {
		case 0:
			return true // 27.005: reports are not routed to the TE; the modem drops them
		case 1:
			if rx.ack != nil {
				return false
			}
			m.at.urc(fmt.Sprintf("+CDS: %d", len(d.tpdu)), pduHex)
			rx.expectAck(d)
			return true
		}
	} else if mt == 2 || mt == 3 {
		if rx.ack != nil {
			return false
		}
		m.at.urc(fmt.Sprintf("+CMT: %s,%d", m.info.cmtPrefix, len(d.tpdu)), pduHex)
		rx.expectAck(d)
		return true
	}
	mem := m.cpms[2]
	if d.report && m.sr != nil {
		mem = "SR"
	}
	s := m.storeNamed(mem)
	if s == nil {
		return false
	}
	idx, stored := s.put(&storedMsg{stat: statRecUnread, pdu: pdu, tpduLen: len(d.tpdu)})
	if !stored {
		if m.cfg.Dialect == Huawei {
			m.at.urc(`^SMMEMFULL: "` + mem + `"`)
		}
		return false
	}
	switch {
	case d.report:
		m.at.urc(fmt.Sprintf(`+CDSI: "%s",%d`, mem, idx))
	case mt == 1:
		m.at.urc(fmt.Sprintf(`+CMTI: "%s",%d`, mem, idx))
	}
	return true
}

// expectAck arms the AT+CNMA window of AT+CSMS=1.
func (rx *smsReceiver) expectAck(d delivery) {
	m := rx.m
	if m.st.csms != 1 {
		return
	}
	rx.ackSeq++
	id := rx.ackSeq
	rx.ack = &pendingAck{id: id, d: d}
	m.n.after(m.cfg.AckWindow, func() { rx.ackExpired(id) })
}

// ackExpired: 27.005 3.4.1 has the ME switch indications off (mt and ds
// to 0) when the TE does not acknowledge in time, silently. The SMSC got
// no acknowledgement, so it delivers the message again later.
func (rx *smsReceiver) ackExpired(id int) {
	m := rx.m
	m.mu.Lock()
	a := rx.ack
	if a == nil || a.id != id {
		m.mu.Unlock()
		return
	}
	rx.ack = nil
	m.st.cnmi[1], m.st.cnmi[3] = 0, 0
	m.mu.Unlock()
	m.n.requeue(a.d)
	m.n.retrySoon()
}
