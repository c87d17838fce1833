package gsm

import (
	"strings"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

// Event is an unsolicited line from the modem, read: NewStored, Delivered,
// StorageFull, RegistrationChanged, SIMChanged, Rebooted, Unreadable or
// Other. What to do about it is the modem owner's business.
type Event interface{ event() }

// NewStored: a message (+CMTI) or a status report (+CDSI) was stored at
// Slot. Slot.Mem may name another memory than the chosen one (reports in
// "SR", a class 2 message in "SM"): read it through Memory.In.
type NewStored struct {
	Slot   Slot
	Report bool // +CDSI
}

// Delivered: a message (+CMT) or a status report (+CDS) handed over
// directly, with its PDU ("" when the modem sent no PDU line). A modem with
// ReceiveSetup.NeedsAck wants it acknowledged (Ack) within seconds.
type Delivered struct {
	PDU    string
	Report bool // +CDS
}

// StorageFull: the modem's message storage is full (Huawei ^SMMEMFULL);
// new messages are neither stored nor announced until a slot is freed.
type StorageFull struct {
	Mem string // as the modem named it; "" when it did not
}

// RegistrationChanged: the network registration changed (+CREG, which
// Prepare's AT+CREG=1 asks for). Readable is false when the report could
// not be read: something changed, the modem did not say what legibly.
type RegistrationChanged struct {
	Registration Registration
	Readable     bool
}

// SIMChanged: the SIM's state changed (an unsolicited +CPIN: a SIM
// inserted, removed, or asking for its PIN). Code is the +CPIN code, ""
// when there is none.
type SIMChanged struct {
	Code string
}

// Rebooted: the modem announced that it has just started (see
// atcmd.Indication.IsReboot): every setting is gone. At is when the line
// was read: one start-up announces itself in several lines (RDY, then
// "+CFUN: 1"), and a set-up begun after them has answered them all.
type Rebooted struct {
	Line string
	At   time.Time
}

// Unreadable: an indication of a kind gsm acts on (+CMTI, +CDSI) that it
// could not read.
type Unreadable struct {
	Name string
	Err  error
}

// Other: any other unsolicited line (status reports such as ^RSSI, RING,
// vendor lines).
type Other struct {
	Name, Line string
}

func (NewStored) event()           {}
func (Delivered) event()           {}
func (StorageFull) event()         {}
func (RegistrationChanged) event() {}
func (SIMChanged) event()          {}
func (Rebooted) event()            {}
func (Unreadable) event()          {}
func (Other) event()               {}

// Events subscribes to the modem's unsolicited lines, read as events
// (ParseIndication), in the order they came. The first subscription also
// gets the lines that came before it (atcmd keeps them until then), so the
// owner subscribes once per session, before the set-up. The channel closes
// when the engine stops; stop ends the subscription and waits for its
// goroutine.
func (m *Modem) Events() (events <-chan Event, stop func()) {
	inds, unsubscribe := m.eng.Subscribe()
	out := make(chan Event)
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		defer close(out)
		for ind := range inds {
			select {
			case out <- ParseIndication(ind):
			case <-quit:
				return
			}
		}
	}()
	var once sync.Once
	return out, func() {
		once.Do(func() {
			close(quit)
			unsubscribe()
			<-exited
		})
	}
}

// ParseIndication reads one unsolicited line from the engine. Names are
// matched in any case, as firmware spells them.
func ParseIndication(ind atcmd.Indication) Event {
	if ind.IsReboot() {
		return Rebooted{Line: ind.Line, At: ind.At}
	}
	switch name := strings.ToUpper(ind.Name); name {
	case "+CMTI", "+CDSI":
		parse := atcmd.ParseCMTI
		if name == "+CDSI" {
			parse = atcmd.ParseCDSI
		}
		ref, err := parse(ind.Line)
		if err != nil {
			return Unreadable{Name: ind.Name, Err: err}
		}
		return NewStored{Slot: Slot{Mem: ref.Mem, Index: ref.Index}, Report: name == "+CDSI"}
	case "+CMT", "+CDS":
		return Delivered{PDU: ind.PDU, Report: name == "+CDS"}
	case "^SMMEMFULL":
		_, mem, _ := strings.Cut(ind.Line, ":")
		return StorageFull{Mem: strings.ToUpper(strings.Trim(strings.TrimSpace(mem), `"`))}
	case "+CREG":
		reg, err := atcmd.ParseRegistration(ind.Line)
		if err != nil {
			return RegistrationChanged{}
		}
		return RegistrationChanged{Registration: reg, Readable: true}
	case "+CPIN":
		code, _ := atcmd.ParseCPIN(ind.Line)
		return SIMChanged{Code: code}
	}
	return Other{Name: ind.Name, Line: ind.Line}
}
