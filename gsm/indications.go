package gsm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

// ReceiveSetup is how a modem was told to hand over incoming SMS and status
// reports (SetupReceive). The storage methods take it to know the memories.
type ReceiveSetup struct {
	Mem        string // storage for received messages: "ME" or "SM"; "" when none could be used
	CNMI       string // the AT+CNMI command that was accepted
	CNMIReport string // what AT+CNMI? answered right after; some modems report other values than they took
	ReportMem  string // "SR" where the modem keeps status reports apart (announced as +CDSI: "SR",<idx>)
	Direct     bool   // +CMT delivery (no storage worked)
	NeedsAck   bool   // the modem wants AT+CNMA for every +CMT/+CDS (Ack)
	StoreTotal int
	StoreUsed  int
}

// ErrNoIndications: the modem took none of the +CNMI settings gsm can
// receive with.
var ErrNoIndications = errors.New("the modem accepts no +CNMI setting gsmbridge can use")

// cnmiPreferences lists the +CNMI settings tried in order: store-and-notify
// with stored status reports first (a stored report survives our own crash),
// then reports pushed as +CDS, then no reports; mode 2 buffers indications
// while a command runs, mode 1 drops them, so 2 comes first.
var cnmiPreferences = [][5]int{
	{2, 1, 0, 2, 0}, {2, 1, 0, 1, 0}, {1, 1, 0, 2, 0}, {1, 1, 0, 1, 0},
	{2, 1, 0, 0, 0}, {1, 1, 0, 0, 0},
}

// directPreferences are used only when no storage can be used.
var directPreferences = [][5]int{{2, 2, 0, 1, 0}, {1, 2, 0, 1, 0}, {2, 2, 0, 0, 0}, {1, 2, 0, 0, 0}}

// SetupReceive picks the storage (the modem's own memory when it has any,
// since SIM storage is small and fills up) and the +CNMI variant the modem
// accepts, probing AT+CNMI=? first and falling back through the list. A
// modem on which no storage works gets direct delivery (+CMT). It fails
// only with ErrNoIndications: every refusal before that is a fallback.
func (m *Modem) SetupReceive(ctx context.Context) (ReceiveSetup, error) {
	var rs ReceiveSetup
	eng := m.eng
	candidates := []string{"SM"}
	if lines, err := eng.Exec(ctx, "AT+CPMS=?"); err == nil && len(lines) > 0 {
		if ranges, err := atcmd.ParseCPMSRange(lines[0]); err == nil && len(ranges) >= 3 {
			if slices.Contains(ranges[0], "ME") && slices.Contains(ranges[1], "ME") && slices.Contains(ranges[2], "ME") {
				candidates = []string{"ME", "SM"}
			}
			if slices.Contains(ranges[0], "SR") {
				rs.ReportMem = "SR"
			}
		}
	}
	for _, mem := range candidates {
		lines, err := eng.Exec(ctx, selectAll(mem))
		if err != nil {
			continue
		}
		if len(lines) > 0 {
			if st, err := atcmd.ParseCPMS(lines[0]); err == nil && len(st) > 0 {
				if st[0].Total == 0 {
					continue
				}
				rs.StoreUsed, rs.StoreTotal = st[0].Used, st[0].Total
			}
		}
		rs.Mem = mem
		break
	}

	var allowed [][]int
	if lines, err := eng.Exec(ctx, "AT+CNMI=?"); err == nil && len(lines) > 0 {
		allowed, _ = atcmd.ParseCNMIRange(lines[0])
	}
	fits := func(p [5]int) bool {
		if len(allowed) < 4 {
			return true // unknown: let the modem say no
		}
		for i := 0; i < len(allowed) && i < 5; i++ {
			if len(allowed[i]) > 0 && !slices.Contains(allowed[i], p[i]) {
				return false
			}
		}
		return true
	}
	try := func(prefs [][5]int) bool {
		for _, p := range prefs {
			if !fits(p) {
				continue
			}
			cmd := fmt.Sprintf("AT+CNMI=%d,%d,%d,%d,%d", p[0], p[1], p[2], p[3], p[4])
			if _, err := eng.Exec(ctx, cmd); err == nil {
				rs.CNMI = cmd
				rs.CNMIReport = strings.TrimPrefix(cmd, "AT+CNMI=")
				if got, err := m.Indications(ctx); err == nil && got != "" {
					rs.CNMIReport = got
				}
				return true
			}
		}
		return false
	}
	// Phase 2 (AT+CSMS=0) needs no acknowledgement. A modem left in phase
	// 2+ (by other software, or by its firmware) wants AT+CNMA for every
	// +CMT and for every status report pushed as +CDS, even in store mode,
	// and silently stops indicating without it.
	phase2Plus, phaseUnknown := false, false
	if _, err := eng.Exec(ctx, "AT+CSMS=0"); err != nil {
		lines, qerr := eng.Exec(ctx, "AT+CSMS?")
		if qerr != nil || len(lines) == 0 {
			phaseUnknown = true
		} else {
			phase2Plus = strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(lines[0], "+CSMS:")), "1")
		}
	}
	rs.NeedsAck = phase2Plus
	if rs.Mem != "" && try(cnmiPreferences) {
		return rs, nil
	}
	// No storage works: direct delivery, where an unacknowledged +CMT is a
	// lost reply, so an unknown phase counts as one that wants it.
	rs.NeedsAck = phase2Plus || phaseUnknown
	if try(directPreferences) {
		rs.Direct = true
		return rs, nil
	}
	return rs, ErrNoIndications
}

// Indications asks the modem for its new-message indication settings
// (AT+CNMI?), as "2,1,0,2,0": compared with ReceiveSetup.CNMIReport, it
// tells a modem that reset without a word (and forgot them). "" with no
// error when the modem answers without a line.
func (m *Modem) Indications(ctx context.Context) (string, error) {
	lines, err := m.eng.Exec(ctx, "AT+CNMI?")
	if err != nil || len(lines) == 0 {
		return "", err
	}
	return strings.ReplaceAll(strings.TrimSpace(strings.TrimPrefix(lines[0], "+CNMI:")), " ", ""), nil
}

// Ack acknowledges a directly delivered message or status report
// (AT+CNMA), as a modem with ReceiveSetup.NeedsAck wants within its window.
// A failed acknowledgement is tried once more while the window is still
// open: an unacknowledged +CMT makes the modem switch indications off. 340
// means it expected none. reapply says the modem's settings are not what
// SetupReceive left (340, or a timeout): set them up again once the PDU is
// safe. A modem that refuses AT+CNMA outright does not ask for that, or it
// would be set up again at every message.
func (m *Modem) Ack(ctx context.Context) (reapply bool, err error) {
	_, err = m.eng.Exec(ctx, "AT+CNMA")
	var cms *atcmd.CMSError
	if err != nil && !(errors.As(err, &cms) && cms.Code == 340) {
		_, err = m.eng.Exec(ctx, "AT+CNMA")
	}
	reapply = errors.As(err, &cms) && cms.Code == 340 || errors.Is(err, atcmd.ErrTimeout)
	return reapply, err
}

// selectAll is the AT+CPMS command that makes mem the memory for reading,
// writing and receiving.
func selectAll(mem string) string {
	return fmt.Sprintf(`AT+CPMS="%s","%s","%s"`, mem, mem, mem)
}

// validMem holds a memory name from the modem to what may go into a
// command line: two letters, as 27.005 names them.
func validMem(mem string) bool {
	return len(mem) == 2 && mem[0] >= 'A' && mem[0] <= 'Z' && mem[1] >= 'A' && mem[1] <= 'Z'
}
