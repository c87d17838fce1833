package modemsim

import (
	"fmt"
	"strconv"
	"time"
)

// Radio is a modem's side of the network: whether the radio is on, the
// registration state and signal it reports, the +CREG/+CGREG/+CEREG
// indications of changes and the periodic status lines some firmware
// sends. Its state is guarded by the modem's mutex; the exported methods
// take it.
type Radio struct {
	m *Modem

	radioOn bool
	regStat int
	rssi    int
}

// Radio returns the modem's radio: registration and signal, for tests.
func (m *Modem) Radio() *Radio { return &m.radio }

// status is the registration state the modem reports: no radio, no SIM
// or a locked SIM means not registered.
func (r *Radio) status() int {
	m := r.m
	switch {
	case !r.radioOn || m.sim == nil || m.sim.state != simReady:
		return 0
	case m.operator() == nil:
		return 3
	}
	return r.regStat
}

func (r *Radio) registered() bool {
	s := r.status()
	return s == 1 || s == 5
}

// setting points at the presentation setting of +CREG, +CGREG or +CEREG.
func (r *Radio) setting(name string) *int {
	m := r.m
	switch name {
	case "+CGREG":
		return &m.st.cgreg
	case "+CEREG":
		return &m.st.cereg
	}
	return &m.st.creg
}

func (r *Radio) line(name string, withN bool) string {
	n := *r.setting(name)
	s := fmt.Sprintf("%s: ", name)
	if withN {
		s += strconv.Itoa(n) + ","
	}
	s += strconv.Itoa(r.status())
	if n == 2 && r.registered() {
		s += `,"00C3","B2F1"`
	}
	return s
}

// changed announces a registration change to hosts that asked for it.
func (r *Radio) changed() {
	m := r.m
	for _, name := range []string{"+CREG", "+CGREG", "+CEREG"} {
		if *r.setting(name) > 0 {
			m.at.urc(r.line(name, false))
		}
	}
}

// SetRegistration sets the network registration state (0 not registered,
// 1 home, 2 searching, 3 denied, 5 roaming) and sends +CREG URCs to hosts
// that enabled them.
func (r *Radio) SetRegistration(stat int) {
	m := r.m
	m.mu.Lock()
	defer m.mu.Unlock()
	was := r.status()
	r.regStat = stat
	if r.status() != was {
		r.changed()
	}
	if r.registered() {
		m.n.retrySoon()
	}
}

// SetSignal sets the +CSQ rssi (0..31, 99 unknown).
func (r *Radio) SetSignal(rssi int) {
	m := r.m
	m.mu.Lock()
	defer m.mu.Unlock()
	r.rssi = rssi
}

// noiseLoop sends the periodic status lines some firmware never stops
// sending.
func (r *Radio) noiseLoop(done <-chan struct{}, period time.Duration) {
	m := r.m
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		case <-m.n.clock.After(period):
		}
		m.mu.Lock()
		if m.st.reports == 1 {
			m.at.urc(r.noiseLine(i))
		}
		m.mu.Unlock()
	}
}

func (r *Radio) noiseLine(i int) string {
	m := r.m
	switch m.cfg.Dialect {
	case Huawei:
		lines := []string{fmt.Sprintf("^RSSI:%d", r.rssi), "^MODE:5,4", "^SRVST:2", `^HCSQ:"WCDMA",43,39,57`}
		return lines[i%len(lines)]
	case Quectel:
		return fmt.Sprintf(`+QIND: "csq",%d,99`, r.rssi)
	case SIMCom:
		return fmt.Sprintf("+CSQN: %d,99", r.rssi)
	}
	return fmt.Sprintf("+CIEV: 2,%d", min(5, r.rssi/6))
}

func (r *Radio) noisePeriod() time.Duration {
	m := r.m
	switch {
	case m.cfg.NoisePeriod < 0:
		return 0
	case m.cfg.NoisePeriod > 0:
		return m.cfg.NoisePeriod
	case m.cfg.Dialect == Huawei:
		return 10 * time.Second
	}
	return 0
}
