package modemsim

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// SMS in PDU mode, 27.005. All cmd* and receive run with m.mu held.

func (m *Modem) cmdCMGF(c command) response {
	switch c.op {
	case '?':
		return ok("+CMGF: 0")
	case 't':
		return ok("+CMGF: (0)")
	case '=':
		// Text mode is not simulated: the daemon and gammu both use PDU mode.
		if v, good := c.numOr(0, 0); good && v == 0 {
			return ok()
		}
		return fail(m.st.cms(303))
	}
	return fail("ERROR")
}

func (m *Modem) cmdCSMS(c command) response {
	switch c.op {
	case '?':
		return ok(fmt.Sprintf("+CSMS: %d,1,1,1", m.st.csms))
	case 't':
		return ok("+CSMS: (0,1)")
	case '=':
		v, good := c.num(0)
		if !good || v < 0 || v > 1 {
			return fail(m.st.cms(302))
		}
		m.st.csms = v
		return ok("+CSMS: 1,1,1")
	}
	return fail("ERROR")
}

// storeNamed returns the memory called name, nil when this modem (or its
// SIM) has none.
func (m *Modem) storeNamed(name string) *store {
	switch strings.ToUpper(name) {
	case "SM":
		if m.sim != nil {
			return m.sim.sm
		}
	case "ME":
		return m.me
	case "SR":
		if m.sr != nil {
			return m.sr
		}
	}
	return nil
}

func (m *Modem) cmdCPMS(c command) response {
	if final, blocked := m.slot.blocked(true); blocked {
		return fail(final)
	}
	mems := `"SM"`
	if m.me != nil {
		mems = `"SM","ME"`
	}
	// Reports can only be read and deleted: SR is offered for <mem1> alone.
	mem1 := mems
	if m.sr != nil {
		mem1 += `,"SR"`
	}
	switch c.op {
	case '?':
		var parts []string
		for _, name := range m.cpms {
			s := m.storeNamed(name)
			parts = append(parts, fmt.Sprintf(`"%s",%d,%d`, name, s.used(), len(s.slots)))
		}
		return ok("+CPMS: " + strings.Join(parts, ","))
	case 't':
		return ok(fmt.Sprintf("+CPMS: (%s),(%s),(%s)", mem1, mems, mems))
	case '=':
		if len(c.args) == 0 || len(c.args) > 3 {
			return fail(m.st.cms(302))
		}
		next := m.cpms
		for i := range c.args {
			name := strings.ToUpper(c.str(i))
			if m.storeNamed(name) == nil || name == "SR" && i > 0 {
				return fail(m.st.cms(302))
			}
			next[i] = name
		}
		m.cpms = next
		var parts []string
		for _, name := range m.cpms {
			s := m.storeNamed(name)
			parts = append(parts, fmt.Sprintf("%d,%d", s.used(), len(s.slots)))
		}
		return ok("+CPMS: " + strings.Join(parts, ","))
	}
	return fail("ERROR")
}

func (m *Modem) cmdCNMI(c command) response {
	switch c.op {
	case '?':
		if m.faults.cnmiShow != "" {
			return ok(m.faults.cnmiShow)
		}
		v := m.st.cnmi
		return ok(fmt.Sprintf("+CNMI: %d,%d,%d,%d,%d", v[0], v[1], v[2], v[3], v[4]))
	case 't':
		return ok(m.info.cnmiRanges)
	case '=':
		limits := [5]int{3, 3, 3, 2, 1}
		var v [5]int
		if len(c.args) > 5 {
			return fail(m.st.cms(302))
		}
		for i := range c.args {
			x, good := c.numOr(i, 0)
			if !good || x < 0 || x > limits[i] {
				return fail(m.st.cms(302))
			}
			v[i] = x
		}
		if v[3] == 1 && m.info.refuseDS1 {
			return fail(m.st.cms(303))
		}
		m.st.cnmi = v
		m.n.retrySoon()
		return ok()
	}
	return fail("ERROR")
}

func (m *Modem) cmdCMGS(c command) response {
	switch c.op {
	case 't':
		return ok()
	case '=':
	default:
		return fail("ERROR")
	}
	if final, blocked := m.slot.blocked(true); blocked {
		return fail(final)
	}
	n, good := c.num(0)
	if !good || n < 1 || n > 164 {
		return fail(m.st.cms(304))
	}
	m.at.pdu = &pduEntry{cmd: c.text, length: n}
	return response{prompt: true}
}

// submitPDU handles the PDU typed after the AT+CMGS prompt.
func (m *Modem) submitPDU(e *pduEntry) *response {
	r := &response{delay: m.faults.latencyFor("AT" + e.cmd)}
	if m.faults.failSend.n > 0 {
		m.faults.failSend.n--
		r.final = m.st.cms(m.faults.failSend.cms)
		return r
	}
	text := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\r' || r == '\n' || r == '\t' {
			return -1
		}
		return r
	}, string(e.hex))
	t, err := decodeSubmit(text, e.length)
	if err != nil {
		m.log.Debug("sim: PDU rejected", "err", err)
		r.final = m.st.cms(304)
		return r
	}
	if !m.radio.registered() {
		r.final = m.st.cms(331)
		return r
	}
	mr := byte(m.mr)
	m.mr = (m.mr + 1) % 256
	t.MR = mr
	m.record.sent = append(m.record.sent, sentFrom(t, strings.ToUpper(text), m.n.clock.Now()))
	from := m.sim.msisdn
	r.lines = []string{fmt.Sprintf("+CMGS: %d", mr)}
	r.final = "OK"
	r.after = []func(){func() { m.n.submit(from, t, mr) }}
	return r
}

// decodeSubmit checks a PDU-mode SMS-SUBMIT as strictly as a modem does:
// <length> must count the TPDU octets exactly.
func decodeSubmit(hexText string, length int) (*tpdu.TPDU, error) {
	raw, err := hex.DecodeString(hexText)
	if err != nil {
		return nil, fmt.Errorf("hex: %w", err)
	}
	p, err := pdumode.UnmarshalBinary(raw)
	if err != nil {
		return nil, fmt.Errorf("pdu: %w", err)
	}
	if len(p.TPDU) != length {
		return nil, fmt.Errorf("length %d given, TPDU has %d octets", length, len(p.TPDU))
	}
	t, err := sms.Unmarshal(p.TPDU, sms.AsMO)
	if err != nil {
		return nil, fmt.Errorf("tpdu: %w", err)
	}
	if t.SmsType() != tpdu.SmsSubmit {
		return nil, fmt.Errorf("tpdu: %v, not an SMS-SUBMIT", t.SmsType())
	}
	if _, err := t.Alphabet(); err != nil {
		return nil, fmt.Errorf("tpdu: %w", err)
	}
	return t, nil
}

func sentFrom(t *tpdu.TPDU, pduHex string, now time.Time) SentSMS {
	s := SentSMS{
		To: t.DA.Number(), Part: 1, Parts: 1, SRR: t.FirstOctet.SRR(), MR: int(t.MR),
		DCS: byte(t.DCS), PDU: pduHex, Time: now,
	}
	if t.VP.Format == tpdu.VpfRelative || t.VP.Format == tpdu.VpfEnhanced {
		s.VP = t.VP.Duration
	}
	if total, seq, ref, ok := t.ConcatInfo(); ok {
		s.Parts, s.Part, s.ConcatRef = total, seq, ref
	}
	alpha, _ := t.Alphabet()
	if text, err := tpdu.DecodeUserData(t.UD, t.UDH, alpha); err == nil {
		s.Text = string(text)
	}
	return s
}
