package modemsim

// SMS storage and the SIM card. Nothing here locks: the owning Modem's mutex
// covers it.

// Message status values of 27.005 <stat>.
const (
	statRecUnread = 0
	statRecRead   = 1
)

type storedMsg struct {
	stat    int
	pdu     []byte // SMSC address + TPDU, as +CMGR shows it
	tpduLen int
}

// store is one 27.005 message memory ("SM" or "ME").
type store struct {
	name  string
	slots []*storedMsg
	first int // index of slots[0] as the host sees it
}

func newStore(name string, capacity, first int) *store {
	return &store{name: name, slots: make([]*storedMsg, capacity), first: first}
}

func (s *store) put(msg *storedMsg) (index int, ok bool) {
	for i, slot := range s.slots {
		if slot == nil {
			s.slots[i] = msg
			return i + s.first, true
		}
	}
	return 0, false
}

func (s *store) get(index int) *storedMsg {
	i := index - s.first
	if i < 0 || i >= len(s.slots) {
		return nil
	}
	return s.slots[i]
}

// valid reports whether index names a slot of this memory, empty or not.
func (s *store) valid(index int) bool {
	i := index - s.first
	return i >= 0 && i < len(s.slots)
}

func (s *store) del(index int) {
	if s.valid(index) {
		s.slots[index-s.first] = nil
	}
}

func (s *store) used() int {
	n := 0
	for _, slot := range s.slots {
		if slot != nil {
			n++
		}
	}
	return n
}

func (s *store) fill(msg *storedMsg) {
	for i := range s.slots {
		if s.slots[i] == nil {
			c := *msg
			s.slots[i] = &c
		}
	}
}

type pinState int

const (
	simReady pinState = iota
	simPIN
	simPUK
)

// defaultPUK unlocks a SIM blocked by three wrong PINs.
const defaultPUK = "12345678"

type simCard struct {
	iccid, imsi, msisdn string
	pin                 string
	state               pinState
	attempts            int
	sm                  *store // SMS storage lives on the SIM and leaves with it
}

func newSIM(iccid, imsi, msisdn string, capacity, first int) *simCard {
	if capacity <= 0 {
		capacity = 20
	}
	return &simCard{iccid: iccid, imsi: imsi, msisdn: msisdn, sm: newStore("SM", capacity, first)}
}
