package gsm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

// Memory is the modem's message storage as SetupReceive chose it: listing,
// reading, deleting, switching memories and how full it is. Make one per
// ReceiveSetup (Modem.Memory); like the Modem, it belongs to the owner's
// goroutine.
type Memory struct {
	m  *Modem
	rs ReceiveSetup
}

// Memory is the storage dialogue for the memories rs names.
func (m *Modem) Memory(rs ReceiveSetup) Memory { return Memory{m: m, rs: rs} }

// Slot is where the modem keeps a message: a memory ("SM", "ME", "SR")
// and an index in it. Read and Delete reach the index in the memory
// selected now; Stored and In select the slot's memory around the work on
// it.
type Slot struct {
	Mem   string
	Index int
}

// StoredPDU is a message found in the modem's storage.
type StoredPDU struct {
	Slot Slot
	PDU  string // hex; "" when the firmware listed no PDU line
}

// StorageUse is how full the chosen memory is.
type StorageUse struct {
	Used, Total int
	Known       bool // false: the modem answered AT+CPMS? without a line
}

// Stored hands take every message in the modem's storage (AT+CMGL=4):
// those in the chosen memory, then, where the modem keeps status reports
// apart, those in the report memory. take runs while its slot's memory is
// selected, so Read and Delete of its index reach that slot. The first
// error, the modem's or take's, ends the listing and is returned; the
// chosen memory is selected again in any case.
func (s Memory) Stored(ctx context.Context, take func(StoredPDU) error) error {
	rs := s.rs
	if err := list(ctx, s.m.eng, rs.Mem, take); err != nil {
		return err
	}
	if rs.ReportMem != "" && rs.Mem != "" && rs.ReportMem != rs.Mem {
		return s.In(ctx, rs.ReportMem, func() error { return list(ctx, s.m.eng, rs.ReportMem, take) })
	}
	return nil
}

// list hands take each message AT+CMGL lists in the memory selected now,
// which is mem.
func list(ctx context.Context, c commander, mem string, take func(StoredPDU) error) error {
	lines, err := c.Exec(ctx, "AT+CMGL=4")
	if err != nil {
		return fmt.Errorf("list stored messages: %w", err)
	}
	msgs, err := atcmd.ParseCMGL(lines)
	if err != nil {
		return fmt.Errorf("list stored messages: %w: %w", ErrUnreadable, err)
	}
	for _, s := range msgs {
		if err := take(StoredPDU{Slot: Slot{Mem: mem, Index: s.Index}, PDU: s.PDU}); err != nil {
			return err
		}
	}
	return nil
}

// In runs fn with mem as the memory messages are read from and
// deleted in, then selects the chosen one again. A modem names another
// memory in an indication (reports in "SR", a class 2 message in "SM") or
// keeps reports there; read from the chosen memory instead, the slot would
// be empty or another message, and the report would stay there for good.
// fn runs in place when there is nothing to switch: mem is the chosen one,
// none was chosen (direct delivery), or mem is no memory name.
func (s Memory) In(ctx context.Context, mem string, fn func() error) error {
	m, rs := s.m, s.rs
	if mem == "" || mem == rs.Mem || rs.Mem == "" || !validMem(mem) {
		return fn()
	}
	if _, err := m.eng.Exec(ctx, fmt.Sprintf(`AT+CPMS="%s"`, mem)); err != nil {
		return fmt.Errorf("select memory %s: %w", mem, err)
	}
	err := fn()
	// Back to the chosen memory even when fn failed or ctx ended, naming all
	// three: a modem left reading another memory would take the next
	// +CMTI's slot from the wrong place.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, rerr := m.eng.Exec(rctx, selectAll(rs.Mem)); rerr != nil {
		m.log.Error("could not select the message memory again; the next sweep tries", "memory", rs.Mem, "err", rerr)
		if err == nil {
			err = fmt.Errorf("select memory %s again: %w", rs.Mem, rerr)
		}
	}
	return err
}

// Read reads the PDU at index in the memory selected now (AT+CMGR): "" for
// an empty slot, which firmware says with CMS 321 or a bare OK (Huawei).
func (s Memory) Read(ctx context.Context, index int) (pdu string, err error) {
	lines, err := s.m.eng.Exec(ctx, "AT+CMGR="+strconv.Itoa(index))
	if err != nil {
		var cms *atcmd.CMSError
		if errors.As(err, &cms) && cms.Code == 321 {
			return "", nil
		}
		return "", fmt.Errorf("read slot %d: %w", index, err)
	}
	msg, found, err := atcmd.ParseCMGR(lines)
	if err != nil {
		return "", fmt.Errorf("read slot %d: %w: %w", index, ErrUnreadable, err)
	}
	if !found {
		return "", nil
	}
	return msg.PDU, nil
}

// Delete frees the slot at index in the memory selected now (AT+CMGD).
func (s Memory) Delete(ctx context.Context, index int) error {
	if _, err := s.m.eng.Exec(ctx, "AT+CMGD="+strconv.Itoa(index)); err != nil {
		return fmt.Errorf("delete slot %d: %w", index, err)
	}
	return nil
}

// Use reads how full the memory selected now is (AT+CPMS?). A line it
// cannot read is ErrUnreadable; no line at all is not an error, only not
// Known.
func (s Memory) Use(ctx context.Context) (StorageUse, error) {
	lines, err := s.m.eng.Exec(ctx, "AT+CPMS?")
	if err != nil || len(lines) == 0 {
		return StorageUse{}, err
	}
	st, err := atcmd.ParseCPMS(lines[0])
	if err != nil {
		return StorageUse{}, fmt.Errorf("AT+CPMS?: %w: %w", ErrUnreadable, err)
	}
	return StorageUse{Used: st[0].Used, Total: st[0].Total, Known: true}, nil
}
