package gsm

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

// commander is what most of the dialogue needs from the AT engine: Exec
// returns a command's information lines, without echo or final result.
// *atcmd.Engine has it.
type commander interface {
	Exec(ctx context.Context, cmd string) ([]string, error)
}

// Identity is who a modem and its SIM are. The SIM fields are empty when
// there is no SIM or it does not tell; OwnNumber usually is.
type Identity struct {
	Manufacturer, Model, Revision string
	IMEI                          string // "" unless IMEIValid
	IMEIValid                     bool
	RawIMEI                       string // the answer as given, for junk IMEIs
	IMSI                          string
	ICCID                         string // decimal digits, see NormalizeICCID
	OwnNumber                     string // "+..." when international
	SMSC                          string
	Vendor                        Vendor
}

// iccidCommands are tried in order until one gives an ICCID: the maker's own
// command first, then the generic SIM file read (EF_ICCID, 2FE2 = 12258) and
// AT+CCID, which many firmwares accept whatever their maker.
var iccidCommands = map[Vendor][]string{
	VendorHuawei:  {"AT^ICCID?"},
	VendorSIMCom:  {"AT+CCID"},
	VendorQuectel: {"AT+QCCID"},
	VendorZTE:     {"AT+ZGETICCID"},
	VendorSierra:  {"AT!ICCID?"},
}

const (
	crsmReadICCID = "AT+CRSM=176,12258,0,0,10"
	ccid          = "AT+CCID"
)

// readIdentity asks the modem who it is. A command the modem refuses or does
// not know leaves its fields empty: a missing SIM (CME 10/13) is not an
// error. It fails only when the port or ctx does (those errors wrapped), or
// when the modem answered none of its commands.
func readIdentity(ctx context.Context, c commander) (Identity, error) {
	r := identityReader{ctx: ctx, c: c}
	var id Identity
	id.Manufacturer = parseInfo(r.ask("AT+CGMI"))
	id.Model = parseInfo(r.ask("AT+CGMM"))
	id.Revision = parseInfo(r.ask("AT+CGMR"))
	id.RawIMEI, id.IMEI = parseIMEI(r.ask("AT+CGSN"))
	id.IMEIValid = id.IMEI != ""
	id.Vendor = VendorOf(id.Manufacturer)
	id.IMSI = parseIMSI(r.ask("AT+CIMI"))
	id.ICCID = r.iccid(id.Vendor)
	id.OwnNumber = parseCNUM(r.ask("AT+CNUM"))
	id.SMSC = parseCSCA(r.ask("AT+CSCA?"))
	if r.fatal != nil {
		return id, r.fatal
	}
	if r.answered == 0 {
		return id, fmt.Errorf("gsm: read identity: modem answered no command: %w", r.lastErr)
	}
	return id, nil
}

// identityReader runs the queries, remembering the first fatal error so the
// rest are skipped instead of each failing on a dead port.
type identityReader struct {
	ctx      context.Context
	c        commander
	fatal    error
	lastErr  error
	answered int
}

func (r *identityReader) ask(cmd string) []string {
	if r.fatal != nil {
		return nil
	}
	lines, err := r.c.Exec(r.ctx, cmd)
	if err == nil {
		r.answered++
		return lines
	}
	r.lastErr = err
	if r.ctx.Err() != nil || errors.Is(err, atcmd.ErrPortLost) || errors.Is(err, os.ErrClosed) ||
		errors.Is(err, context.Canceled) {
		r.fatal = fmt.Errorf("gsm: read identity: %s: %w", cmd, err)
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// The command's own deadline passed, not ours. Some firmware
		// ignores what it does not know (AT+CRSM, AT+CCID on neutral
		// 27.007 emulators) instead of answering ERROR; a modem that
		// still answers AT is only that, one that does not has stopped.
		if _, perr := r.c.Exec(r.ctx, "AT"); perr != nil {
			r.fatal = fmt.Errorf("gsm: read identity: %s: %w", cmd, err)
		}
	}
	return nil
}

func (r *identityReader) iccid(v Vendor) string {
	cmds := append(append([]string(nil), iccidCommands[v]...), crsmReadICCID)
	if v != VendorSIMCom {
		cmds = append(cmds, ccid)
	}
	for _, cmd := range cmds {
		lines := r.ask(cmd)
		if lines == nil {
			continue
		}
		if s, err := parseICCID(lines); err == nil {
			return s
		}
	}
	return ""
}
