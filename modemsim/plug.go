package modemsim

import (
	"fmt"
	"strings"
	"time"
)

// AddModem plugs a new modem into the network: a pty, sysfs entries, its
// SIM registered at home.
func (n *Network) AddModem(cfg ModemConfig) (*Modem, error) {
	if cfg.Dialect == "" {
		cfg.Dialect = Generic
	}
	info, err := lookupDialect(cfg.Dialect)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, fmt.Errorf("sim: network closed")
	}
	seq := n.seq
	n.seq++
	err = n.fillDefaults(&cfg, info, seq)
	n.mu.Unlock()
	if err != nil {
		return nil, err
	}
	op, err := operatorFor(cfg.IMSI)
	if err != nil {
		return nil, err
	}
	m := &Modem{
		n:    n,
		info: info,
		log:  n.log.With("modem", cfg.Name),
		cfg:  cfg,
		cpms: [3]string{"SM", "SM", "SM"},
		sim:  newSIM(cfg.ICCID, cfg.IMSI, cfg.MSISDN, cfg.SIMCapacity, info.firstIndex),
	}
	m.ussd = USSD{m: m, balance: cfg.Balance}
	if m.ussd.balance == "" {
		m.ussd.balance = op.balance
	}
	if cfg.MECapacity > 0 {
		m.me = newStore("ME", cfg.MECapacity, info.firstIndex)
	}
	if info.reportsInSR {
		m.sr = newStore("SR", 10, info.firstIndex)
	}
	m.faults = Faults{m: m, latency: map[string]time.Duration{}}
	m.radio = Radio{m: m, radioOn: true, regStat: 1, rssi: 17}
	m.slot = SIMSlot{m: m}
	m.record = Record{m: m, commands: map[string]int{}}
	m.at = atEngine{m: m}
	m.rx = smsReceiver{m: m}
	m.seq = seq
	m.st = m.defaultSettings()
	m.mu.Lock()
	err = m.plug()
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.modems = append(n.modems, m)
	n.mu.Unlock()
	if p := m.radio.noisePeriod(); p > 0 {
		n.spawn(func(done <-chan struct{}) { m.radio.noiseLoop(done, p) })
	}
	return m, nil
}

func (n *Network) fillDefaults(cfg *ModemConfig, info dialectInfo, seq int) error {
	switch cfg.HideICCID {
	case ICCIDShown, ICCIDRefused, ICCIDIgnored:
	default:
		return fmt.Errorf("sim: hide_iccid %q: want \"\", error or silent", cfg.HideICCID)
	}
	var op *operator
	var err error
	switch {
	case cfg.PLMN != "":
		op, err = operatorFor(cfg.PLMN)
	case cfg.IMSI != "":
		op, err = operatorFor(cfg.IMSI)
	default:
		op = operators[seq%len(operators)]
	}
	if err != nil {
		return err
	}
	if cfg.IMSI != "" && !strings.HasPrefix(cfg.IMSI, op.plmn) {
		return fmt.Errorf("sim: IMSI %.5s... does not belong to PLMN %s", cfg.IMSI, op.plmn)
	}
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&cfg.PLMN, op.plmn)
	def(&cfg.Name, fmt.Sprintf("sim%d", seq))
	def(&cfg.IMEI, defaultIMEI(info.tac, seq))
	def(&cfg.IMSI, defaultIMSI(op, seq))
	def(&cfg.ICCID, defaultICCID(op, seq))
	def(&cfg.MSISDN, defaultMSISDN(op, seq))
	def(&cfg.SMSC, op.smsc)
	def(&cfg.Manufacturer, info.manufacturer)
	def(&cfg.Model, info.model)
	def(&cfg.Revision, info.revision)
	if cfg.USBPath == "" {
		cfg.USBPath = fmt.Sprintf("1-1.%d", n.usbPort)
		n.usbPort++
	}
	if cfg.TTY == "" {
		n.ttyNum += len(info.silentInterfaces)
		cfg.TTY = fmt.Sprintf("ttyUSB%d", n.ttyNum)
		n.ttyNum++
	}
	if cfg.SIMCapacity <= 0 {
		cfg.SIMCapacity = 20
	}
	if cfg.AckWindow <= 0 {
		cfg.AckWindow = 15 * time.Second
	}
	return nil
}

// plug opens the ptys, builds the sysfs entries and starts the reader.
// Called with m.mu held.
func (m *Modem) plug() error {
	p, err := openPort(m.cfg.BaudPacing)
	if err != nil {
		return err
	}
	var silent []*port
	for range m.info.silentInterfaces {
		s, err := openPort(0)
		if err != nil {
			p.close()
			for _, s := range silent {
				s.close()
			}
			return err
		}
		silent = append(silent, s)
	}
	paths, err := m.n.addSysfs(m.cfg, m.info, p, silent, 2+m.seq*8+m.plugs)
	if err != nil {
		m.n.removeSysfs(paths)
		p.close()
		for _, s := range silent {
			s.close()
		}
		return err
	}
	m.port, m.silent, m.sysPaths = p, silent, paths
	m.at.line, m.at.pdu = nil, nil
	m.n.spawn(func(done <-chan struct{}) { m.at.readLoop(p, done) })
	m.n.spawn(func(done <-chan struct{}) { m.at.writeLoop(p, done) })
	return nil
}

// unplug closes the ptys (the host's next read fails with EIO) and removes
// the sysfs entries. Called with m.mu held.
func (m *Modem) unplug() {
	if m.port == nil {
		return
	}
	m.port.close()
	for _, s := range m.silent {
		s.close()
	}
	m.n.removeSysfs(m.sysPaths)
	m.port, m.silent, m.sysPaths = nil, nil, nil
}

func (m *Modem) shutdown() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unplug()
}
