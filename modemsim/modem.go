package modemsim

import (
	"log/slog"
	"path/filepath"
	"sync"
	"time"
)

// ModemConfig describes one simulated modem. Empty fields get defaults: the
// operator's numbers, the dialect's identity, the next free USB port and tty.
type ModemConfig struct {
	Name    string  `yaml:"name"`
	Dialect Dialect `yaml:"dialect"`
	// PLMN picks the operator (25001 MTS, 25002 MegaFon, 25099 Beeline,
	// 25020 Tele2); "" = taken from IMSI, else the next in turn.
	PLMN string `yaml:"plmn"`

	IMEI   string `yaml:"imei"`
	IMSI   string `yaml:"imsi"`
	ICCID  string `yaml:"iccid"`
	MSISDN string `yaml:"msisdn"`
	SMSC   string `yaml:"smsc"`

	Manufacturer string `yaml:"manufacturer"`
	Model        string `yaml:"model"`
	Revision     string `yaml:"revision"`

	USBPath string `yaml:"usb_path"` // e.g. "1-1.2"
	TTY     string `yaml:"tty"`      // e.g. "ttyUSB2"

	SIMCapacity int `yaml:"sim_capacity"` // SMS slots on the SIM; 0 = 20
	MECapacity  int `yaml:"me_capacity"`  // 0 = the modem has no memory of its own
	BaudPacing  int `yaml:"baud_pacing"`  // 0 = unpaced, else output paced at this baud rate

	StoreHasOwnNumber bool `yaml:"store_has_own_number"` // AT+CNUM answers the MSISDN
	// HideICCID makes every way of reading the ICCID (AT+CRSM of EF_ICCID,
	// AT+CCID, AT^ICCID?, AT+QCCID) fail, as on neutral 27.007 emulators
	// and some restricted firmware: "error" answers ERROR, "silent" not at
	// all; "" reads it.
	HideICCID ICCIDHiding `yaml:"hide_iccid"`

	Balance string `yaml:"balance"` // USSD balance amount text; "" = the operator's sample
	// NoisePeriod is how often Huawei-style status URCs (^RSSI, ^MODE, ...)
	// arrive: 0 = dialect default (10 s on Huawei, none elsewhere), < 0 = none.
	NoisePeriod time.Duration `yaml:"noise_period"`
	// AckWindow is how long a +CMT/+CDS waits for AT+CNMA when AT+CSMS=1
	// (15 s).
	AckWindow time.Duration `yaml:"ack_window"`
}

// ICCIDHiding is how a modem keeps its SIM's ICCID to itself.
type ICCIDHiding string

// The ways of hiding the ICCID.
const (
	ICCIDShown   ICCIDHiding = ""
	ICCIDRefused ICCIDHiding = "error"
	ICCIDIgnored ICCIDHiding = "silent"
)

// refusal is the answer to an ICCID command while hidden.
func (h ICCIDHiding) refusal() response {
	if h == ICCIDIgnored {
		return response{} // no final result: the host's command times out
	}
	return fail("ERROR")
}

// SentSMS is one SMS-SUBMIT a modem accepted, decoded.
type SentSMS struct {
	To        string
	Text      string // this part's text
	Part      int    // 1-based; 1 for single messages
	Parts     int
	ConcatRef int // 0 when not concatenated
	SRR       bool
	VP        time.Duration // relative validity period; 0 = none
	MR        int
	DCS       byte
	PDU       string // as sent, hex, with the SMSC part
	Time      time.Time
}

// Modem is one simulated modem. Its methods are safe for concurrent use;
// fault methods take effect for the next command the host sends.
type Modem struct {
	n    *Network
	info dialectInfo
	log  *slog.Logger

	mu       sync.Mutex
	cfg      ModemConfig
	port     *port
	silent   []*port // the stick's other ttys, which never answer
	sysPaths []string
	st       settings
	sim      *simCard
	me       *store
	sr       *store // status reports, on modems that keep them apart
	cpms     [3]string
	mr       int
	seq      int // order of creation, for sysfs device numbers
	plugs    int // times plugged in
	faults   Faults
	radio    Radio
	slot     SIMSlot
	record   Record
	ussd     USSD
	at       atEngine
	rx       smsReceiver
}

// loggedCommand is a command line and the (virtual) time it arrived.
type loggedCommand struct {
	line string
	at   time.Time
}

type commandFault struct {
	prefix string
	n      int
	final  string
}

type pendingAck struct {
	id int
	d  delivery
}

// pduEntry is an AT+CMGS waiting for its PDU.
type pduEntry struct {
	cmd    string // the AT+CMGS=<n> as typed, for latency
	length int
	hex    []byte
}

func (m *Modem) defaultSettings() settings {
	s := settings{echo: true, cscs: "GSM", reports: 1}
	if m.cfg.Dialect == SIMCom || m.cfg.Dialect == Quectel {
		s.cnmi = [5]int{2, 1, 0, 0, 0}
	}
	if m.cfg.Dialect == Huawei {
		s.cscs = "IRA"
	}
	return s
}

// Path is the device node the host opens: <dev>/<tty>, a symlink to the pty.
func (m *Modem) Path() string {
	_, dev := m.n.Roots()
	m.mu.Lock()
	defer m.mu.Unlock()
	return filepath.Join(dev, m.cfg.TTY)
}

// Config returns the modem's configuration with all defaults filled in.
func (m *Modem) Config() ModemConfig {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg
}

// Operator names the network the modem's SIM belongs to (long name, PLMN).
func (m *Modem) Operator() (name, plmn string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if op := m.operator(); op != nil {
		return op.long, op.plmn
	}
	return "", ""
}

// operator is the home network of the inserted SIM, nil without a SIM.
// Called with m.mu held.
func (m *Modem) operator() *operator {
	if m.sim == nil {
		return nil
	}
	op, err := operatorFor(m.sim.imsi)
	if err != nil {
		return nil
	}
	return op
}

func (m *Modem) msisdn() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sim == nil {
		return ""
	}
	return m.sim.msisdn
}
