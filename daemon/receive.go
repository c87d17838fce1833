package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/atcmd"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

// receiveSetup is how a modem was told to hand over incoming SMS and status
// reports.
type receiveSetup struct {
	mem        string // storage for received messages: "ME" or "SM"
	cnmi       string // the AT+CNMI command that was accepted
	cnmiReport string // what AT+CNMI? answered right after; some modems report other values than they took
	reportMem  string // "SR" where the modem keeps status reports apart (announced as +CDSI: "SR",<idx>)
	direct     bool   // +CMT delivery (no storage worked)
	needsAck   bool   // direct delivery under AT+CSMS=1: every +CMT/+CDS needs AT+CNMA
	storeTotal int
	storeUsed  int
}

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

// setupReceive picks the storage (the modem's own memory when it has any,
// since SIM storage is small and fills up) and the +CNMI variant the modem
// accepts, probing AT+CNMI=? first and falling back through the list.
func (o *owner) setupReceive(ctx context.Context, eng *atcmd.Engine) (receiveSetup, error) {
	var rs receiveSetup
	o.d.metrics.receiving(o.snapshot().ID)
	candidates := []string{"SM"}
	if lines, err := eng.Exec(ctx, "AT+CPMS=?"); err == nil && len(lines) > 0 {
		if ranges, err := atcmd.ParseCPMSRange(lines[0]); err == nil && len(ranges) >= 3 {
			if slices.Contains(ranges[0], "ME") && slices.Contains(ranges[1], "ME") && slices.Contains(ranges[2], "ME") {
				candidates = []string{"ME", "SM"}
			}
			if slices.Contains(ranges[0], "SR") {
				rs.reportMem = "SR"
			}
		}
	}
	for _, mem := range candidates {
		lines, err := eng.Exec(ctx, fmt.Sprintf(`AT+CPMS="%s","%s","%s"`, mem, mem, mem))
		if err != nil {
			continue
		}
		if len(lines) > 0 {
			if st, err := atcmd.ParseCPMS(lines[0]); err == nil && len(st) > 0 {
				if st[0].Total == 0 {
					continue
				}
				rs.storeUsed, rs.storeTotal = st[0].Used, st[0].Total
			}
		}
		rs.mem = mem
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
				rs.cnmi = cmd
				rs.cnmiReport = strings.TrimPrefix(cmd, "AT+CNMI=")
				if got, err := readCNMI(ctx, eng); err == nil && got != "" {
					rs.cnmiReport = got
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
	rs.needsAck = phase2Plus
	if rs.mem != "" && try(cnmiPreferences) {
		return rs, nil
	}
	// No storage works: direct delivery, where an unacknowledged +CMT is a
	// lost reply, so an unknown phase counts as one that wants it.
	rs.needsAck = phase2Plus || phaseUnknown
	if try(directPreferences) {
		rs.direct = true
		return rs, nil
	}
	return rs, errors.New("the modem accepts no +CNMI setting gsmbridge can use")
}

// sweep reads everything in the modem's storage: messages that arrived while
// nobody listened, or whose indication was lost; and the status reports of
// a modem that keeps them apart.
func (o *owner) sweep(ctx context.Context, eng *atcmd.Engine, rs *receiveSetup) error {
	if err := o.sweepMem(ctx, eng); err != nil {
		return err
	}
	if rs.reportMem != "" && rs.mem != "" && rs.reportMem != rs.mem {
		if err := o.inMem(ctx, eng, rs, rs.reportMem, func() error { return o.sweepMem(ctx, eng) }); err != nil {
			return err
		}
	}
	return o.refreshStorage(ctx, eng)
}

// sweepMem takes every PDU in the memory AT+CMGL reads now.
func (o *owner) sweepMem(ctx context.Context, eng *atcmd.Engine) error {
	lines, err := eng.Exec(ctx, "AT+CMGL=4")
	if err != nil {
		return fmt.Errorf("list stored messages: %w", err)
	}
	msgs, err := atcmd.ParseCMGL(lines)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := o.takeStored(ctx, eng, m.Index, m.PDU); err != nil {
			return err
		}
	}
	return nil
}

// inMem runs fn with mem as the memory messages are read from and deleted
// in, then goes back to the chosen one. A modem named mem in an indication
// (reports in "SR", a class 2 message in "SM") or keeps reports there; read
// from the chosen memory instead, the slot would be empty or another
// message, and the report would stay there for good.
func (o *owner) inMem(ctx context.Context, eng *atcmd.Engine, rs *receiveSetup, mem string, fn func() error) error {
	if _, err := eng.Exec(ctx, fmt.Sprintf(`AT+CPMS="%s"`, mem)); err != nil {
		return fmt.Errorf("select memory %s: %w", mem, err)
	}
	err := fn()
	// Back to the chosen memory even when fn failed or ctx ended, naming all
	// three: a modem left reading another memory would take the next
	// +CMTI's slot from the wrong place.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, rerr := eng.Exec(rctx, fmt.Sprintf(`AT+CPMS="%s","%s","%s"`, rs.mem, rs.mem, rs.mem)); rerr != nil {
		o.log.Error("could not select the message memory again; the next sweep tries", "memory", rs.mem, "err", rerr)
		if err == nil {
			err = fmt.Errorf("select memory %s again: %w", rs.mem, rerr)
		}
	}
	return err
}

func (o *owner) refreshStorage(ctx context.Context, eng *atcmd.Engine) error {
	lines, err := eng.Exec(ctx, "AT+CPMS?")
	if err != nil || len(lines) == 0 {
		return err
	}
	st, err := atcmd.ParseCPMS(lines[0])
	if err != nil || len(st) == 0 {
		return err
	}
	o.update(func(s *ModemStatus) { s.StorageUsed, s.StorageTotal = st[0].Used, st[0].Total })
	return nil
}

// readStored handles a +CMTI or +CDSI: read the slot, store, then delete.
func (o *owner) readStored(ctx context.Context, eng *atcmd.Engine, idx int) error {
	pdu, err := o.readSlot(ctx, eng, idx)
	if err != nil || pdu == "" {
		return err
	}
	return o.takeStored(ctx, eng, idx, pdu)
}

// readSlot reads the PDU in slot idx of the current memory; "" for an empty
// slot (taken by an earlier sweep).
func (o *owner) readSlot(ctx context.Context, eng *atcmd.Engine, idx int) (string, error) {
	lines, err := eng.Exec(ctx, "AT+CMGR="+strconv.Itoa(idx))
	if err != nil {
		var cms *atcmd.CMSError
		if errors.As(err, &cms) && cms.Code == 321 {
			return "", nil
		}
		return "", fmt.Errorf("read slot %d: %w", idx, err)
	}
	m, found, err := atcmd.ParseCMGR(lines)
	if err != nil || !found {
		return "", err
	}
	return m.PDU, nil
}

// takeStored stores one PDU from the modem's storage durably and only then
// deletes it there. A PDU that cannot be decoded is read again at once: a
// status line or line noise may have garbled it on the way, and the next
// sweep comes minutes later, too late for a payment reply. One that still
// cannot be decoded is left in place rather than lost, and reported.
func (o *owner) takeStored(ctx context.Context, eng *atcmd.Engine, idx int, pdu string) error {
	if pdu == "" {
		return nil
	}
	v, err := sms.DecodeAny(pdu)
	if err != nil {
		if pdu, err = o.readSlot(ctx, eng, idx); err != nil || pdu == "" {
			return err
		}
		if v, err = sms.DecodeAny(pdu); err != nil {
			o.leaveUndecodable(ctx, idx, pdu, err)
			return nil
		}
		o.log.Info("a stored PDU that read garbled read well the second time", "index", idx)
	}
	st := o.snapshot()
	handled, err := o.handleDecoded(ctx, v, st.ICCID, st.ID)
	if err != nil {
		return err
	}
	if !handled {
		return nil
	}
	if _, err := eng.Exec(ctx, "AT+CMGD="+strconv.Itoa(idx)); err != nil {
		return fmt.Errorf("delete slot %d: %w", idx, err)
	}
	return nil
}

// handlePDUFrom stores a directly delivered SMS or applies a status report
// that arrived through SIM iccid in modem modemID, which may no longer be
// the ones in the slot. handled is false for PDUs gsmbridge does not take.
func (o *owner) handlePDUFrom(ctx context.Context, pdu, iccid, modemID string) (handled bool, err error) {
	v, err := sms.DecodeAny(pdu)
	if err != nil {
		o.log.Warn("dropped an undecodable PDU the modem delivered directly", "err", err)
		return false, nil
	}
	return o.handleDecoded(ctx, v, iccid, modemID)
}

// handleDecoded stores a received SMS or applies a status report. handled is
// false for what gsmbridge does not take (a SUBMIT someone left in storage).
func (o *owner) handleDecoded(ctx context.Context, v any, iccid, modemID string) (handled bool, err error) {
	switch x := v.(type) {
	case *sms.Deliver:
		r := store.Received{ICCID: iccid, ModemID: modemID, Sender: x.From, Text: x.Text, Encoding: string(x.Encoding),
			Plain: x.PlainText, SCTS: x.SCTS}
		if x.Concat != nil {
			r.ConcatKey, r.Seq, r.Total = sms.ConcatKey(x), x.Concat.Seq, x.Concat.Total
		}
		if _, err := o.d.store.StoreReceived(context.WithoutCancel(ctx), r); err != nil {
			return false, fmt.Errorf("store received SMS: %w", err)
		}
		o.update(func(s *ModemStatus) { s.Received++ })
		return true, nil
	case *sms.StatusReport:
		return true, o.d.recordReport(ctx, iccid, x)
	}
	return false, nil
}

func (d *Daemon) recordReport(ctx context.Context, iccid string, r *sms.StatusReport) error {
	outcome := store.ReportDelivered
	switch r.Outcome() {
	case sms.Pending:
		outcome = store.ReportPending
	case sms.Failed:
		outcome = store.ReportFailed
	}
	recipient := r.Recipient
	if n, err := sms.Normalize(recipient); err == nil {
		recipient = n
	}
	_, err := d.store.RecordStatusReport(context.WithoutCancel(ctx), store.StatusReport{ICCID: iccid, MR: int(r.MR),
		Recipient: recipient, Status: int(r.Status), Outcome: outcome, Meaning: r.Meaning(), SCTS: r.SCTS, Discharge: r.Discharge})
	return err
}

// indication handles one unsolicited line. It returns an error only when the
// session must start over.
func (o *owner) indication(ctx context.Context, eng *atcmd.Engine, rs *receiveSetup, ind atcmd.Indication) error {
	switch strings.ToUpper(ind.Name) {
	case "+CMTI", "+CDSI":
		parse := atcmd.ParseCMTI
		if strings.EqualFold(ind.Name, "+CDSI") {
			parse = atcmd.ParseCDSI
		}
		ref, err := parse(ind.Line)
		if err != nil {
			o.log.Warn("unreadable indication", "name", ind.Name, "err", err)
			return nil
		}
		read := func() error { return o.readStored(ctx, eng, ref.Index) }
		if mem := strings.ToUpper(ref.Mem); mem != "" && mem != rs.mem && rs.mem != "" && validMem(mem) {
			err = o.inMem(ctx, eng, rs, mem, read)
		} else {
			err = read()
		}
		if err != nil {
			o.log.Warn("reading a new message failed; the next sweep takes it", "err", err)
		}
	case "+CMT", "+CDS":
		// Acknowledge first, within the modem's window, keeping the PDU in
		// memory until it is stored.
		var reapply bool
		if rs.needsAck {
			// A failed acknowledgement is tried once more while the modem's
			// window is still open: an unacknowledged +CMT makes it switch
			// indications off, which only an idle health check would notice.
			// 340 means it expected none (its settings are not ours); what
			// still fails re-applies the settings once this PDU is safe.
			_, err := eng.Exec(ctx, "AT+CNMA")
			var cms *atcmd.CMSError
			if err != nil && !(errors.As(err, &cms) && cms.Code == 340) {
				_, err = eng.Exec(ctx, "AT+CNMA")
			}
			// A modem that refuses AT+CNMA outright would be set up again
			// at every message; 340 and a timeout are what say the settings
			// are not what we think.
			reapply = errors.As(err, &cms) && cms.Code == 340 || errors.Is(err, atcmd.ErrTimeout)
		}
		st := o.snapshot()
		if _, err := o.handlePDUFrom(ctx, ind.PDU, st.ICCID, st.ID); err != nil {
			// Acknowledged: the network will not send it again.
			if !o.unstored.add(unstoredPDU{pdu: ind.PDU, iccid: st.ICCID, modemID: st.ID}) {
				o.log.Error("could not store a directly delivered SMS, and too many wait in memory already: it is lost", "err", err)
			} else {
				o.log.Error("could not store a directly delivered SMS; kept in memory and retried", "err", err, "waiting", o.unstored.len())
			}
		}
		if reapply {
			return o.reapplyIndications(ctx, eng, rs)
		}
	case "^SMMEMFULL":
		if err := o.sweep(ctx, eng, rs); err != nil {
			o.log.Warn("emptying full storage", "err", err)
		}
	}
	return nil
}

func (o *owner) reapplyIndications(ctx context.Context, eng *atcmd.Engine, rs *receiveSetup) error {
	n, err := o.setupReceive(ctx, eng)
	if err != nil {
		return err
	}
	*rs = n
	return nil
}

// readCNMI asks the modem for its new-message indication settings, as
// "2,1,0,2,0".
func readCNMI(ctx context.Context, eng *atcmd.Engine) (string, error) {
	lines, err := eng.Exec(ctx, "AT+CNMI?")
	if err != nil || len(lines) == 0 {
		return "", err
	}
	return strings.ReplaceAll(strings.TrimSpace(strings.TrimPrefix(lines[0], "+CNMI:")), " ", ""), nil
}

// validMem holds a memory name from the modem to what may go into a
// command line: two letters, as 27.005 names them.
func validMem(mem string) bool {
	return len(mem) == 2 && mem[0] >= 'A' && mem[0] <= 'Z' && mem[1] >= 'A' && mem[1] <= 'Z'
}

// unstoredPDUs are PDUs a modem handed over directly (+CMT, +CDS) and that
// were acknowledged, but that the store refused: the network will not send
// them again, so the owner keeps them and retries until they are stored.
type unstoredPDUs struct{ pdus []unstoredPDU }

// unstoredPDU remembers the SIM a PDU came through: by the retry another
// SIM may be in the slot.
type unstoredPDU struct{ pdu, iccid, modemID string }

// maxUnstored bounds the memory a store that stays broken can take.
const maxUnstored = 1000

// add keeps pdu; false when too many wait already.
func (u *unstoredPDUs) add(pdu unstoredPDU) bool {
	if len(u.pdus) >= maxUnstored {
		return false
	}
	u.pdus = append(u.pdus, pdu)
	return true
}

func (u *unstoredPDUs) len() int { return len(u.pdus) }

// retry hands the PDUs to store in arrival order, stopping at the first
// that fails (the store is likely still broken), and keeps the rest.
func (u *unstoredPDUs) retry(store func(pdu unstoredPDU) error) error {
	for len(u.pdus) > 0 {
		if err := store(u.pdus[0]); err != nil {
			return err
		}
		u.pdus[0] = unstoredPDU{}
		u.pdus = u.pdus[1:]
	}
	u.pdus = nil
	return nil
}

// retryUnstored stores what the store refused before.
func (o *owner) retryUnstored(ctx context.Context) {
	if o.unstored.len() == 0 {
		return
	}
	err := o.unstored.retry(func(u unstoredPDU) error {
		_, err := o.handlePDUFrom(ctx, u.pdu, u.iccid, u.modemID)
		return err
	})
	if err != nil {
		o.log.Error("directly delivered SMS still not stored", "err", err, "waiting", o.unstored.len())
		return
	}
	o.log.Info("directly delivered SMS stored at last")
}
