package atcmd

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// call is the command the owner is running. Only accessed from the owner
// goroutine.
type call struct {
	req     *request
	label   string // "AT+CSQ", "ATD": names the command without its arguments
	prefix  string // "+CSQ", "^ICCID"; "" for basic commands
	query   bool   // read form "AT+X?"
	setForm bool   // "AT+X=..." but not the test form "AT+X=?"
	dial    bool   // ATD, ATA, ATO: call-progress results end the command

	syncing    bool // the resync marker runs before the command is sent
	marker     marker
	markerSeen bool

	prompted    bool
	dataWritten bool
	answered    bool // a read query got its own answer line
	info        []string
	alarm       *time.Timer // resync bound, then missing-final grace
}

// marker is a command whose answer cannot be mistaken for a late answer to a
// different command: its information line carries the marker's own prefix.
// The three are mandatory in TS 27.007/27.005 and answer without a SIM; they
// rotate so that a late answer to one resync cannot end the next.
type marker struct{ cmd, prefix string }

var markers = []marker{{"AT+CSCS?", "+CSCS"}, {"AT+CMEE?", "+CMEE"}, {"AT+CMGF?", "+CMGF"}}

// callProgress results end dial commands; during anything else they are
// indications (a voice call dropping while the engine polls AT+CSQ).
var callProgress = map[string]bool{"NO CARRIER": true, "BUSY": true, "NO ANSWER": true, "NO DIALTONE": true}

func newCall(r *request) *call {
	c := &call{req: r, label: commandLabel(r.cmd)}
	body := r.cmd[2:]
	switch {
	case body == "":
	case isPrefixStart(body[0]):
		end := strings.IndexAny(body, "=?;")
		if end < 0 {
			end = len(body)
		}
		c.prefix = strings.ToUpper(body[:end])
		rest := body[end:]
		c.query = strings.HasPrefix(rest, "?")
		c.setForm = strings.HasPrefix(rest, "=") && !strings.HasPrefix(rest, "=?")
	default:
		switch body[0] {
		case 'D', 'd', 'A', 'a', 'O', 'o':
			c.dial = true
		}
	}
	return c
}

// commandLabel names a command for errors and logs without its arguments,
// which may hold a PIN, a number or a USSD code.
func commandLabel(cmd string) string {
	if len(cmd) <= 2 {
		return "AT"
	}
	body := cmd[2:]
	n := 1
	switch {
	case isPrefixStart(body[0]):
		n = strings.IndexAny(body, "=?;")
		if n < 0 {
			n = len(body)
		}
		n = min(n, 16)
	case body[0] == '&' && len(body) > 1:
		n = 2
	}
	return "AT" + strings.ToUpper(body[:n])
}

func (c *call) armAlarm(d time.Duration) {
	if c.alarm == nil {
		c.alarm = time.NewTimer(d)
		return
	}
	c.alarm.Reset(d)
}

func (c *call) stopAlarm() {
	if c.alarm != nil {
		c.alarm.Stop()
		c.alarm = nil
	}
}

func (c *call) isEcho(line string) bool {
	if strings.EqualFold(line, c.req.cmd) {
		return true
	}
	return c.dataWritten && strings.Trim(line, "\x1a\x1b ") == c.req.data
}

func (o *owner) start(r *request) {
	c := newCall(r)
	o.cur = c
	switch {
	case r.ctx.Err() != nil:
		o.finish(c, nil, ctxError(r.ctx))
	case o.needResync:
		o.beginResync(c)
	default:
		o.sendCommand(c)
	}
}

// beginResync makes sure that nothing a lost command still has to say can be
// taken for the next command's answer: ESC first (a modem left at the "> "
// prompt would take the marker for message text), then a marker command, and
// everything up to the marker's final result is discarded.
func (o *owner) beginResync(c *call) {
	m := markers[o.markerTurn%len(markers)]
	o.markerTurn++
	if strings.EqualFold(m.prefix, o.lostPrefix) {
		m = markers[o.markerTurn%len(markers)]
		o.markerTurn++
	}
	c.syncing, c.marker = true, m
	c.armAlarm(o.opts.ResyncTimeout)
	o.log.Debug("atcmd resynchronising", "marker", m.cmd, "before", c.label)
	if o.writeOrStop(c, []byte{0x1b}) {
		o.writeOrStop(c, []byte(m.cmd+"\r"))
	}
}

func (o *owner) sendCommand(c *call) {
	c.syncing = false
	c.stopAlarm()
	o.writeOrStop(c, []byte(c.req.cmd+"\r"))
}

func (o *owner) handleToken(tok token, at time.Time) {
	if p := o.pendingPDU; p != nil {
		o.pendingPDU = nil
		if !tok.prompt {
			p.PDU = tok.line
			o.dispatch(*p)
			return
		}
		o.dispatch(*p)
	}
	if tok.prompt {
		o.onPrompt()
		return
	}
	if strings.Trim(tok.line, "\x1a\x1b ") == "" {
		return
	}
	if c := o.cur; c != nil && !c.syncing {
		o.handleAnswer(c, tok.line, at)
		return
	}
	o.handleUnowned(tok.line, at)
}

// handleUnowned takes a line that no command can own: the engine is idle or
// resynchronising.
func (o *owner) handleUnowned(line string, at time.Time) {
	name := lineName(line)
	if c := o.cur; c != nil {
		if strings.EqualFold(name, c.marker.prefix) {
			c.markerSeen = true
			return
		}
		if final, _, _ := o.finalResult(c, line); final {
			if c.markerSeen {
				o.needResync, o.lostPrefix = false, ""
				o.sendCommand(c)
			}
			return
		}
	}
	if o.needResync && (!isURCName(name, o.opts.URCNames) || strings.EqualFold(name, o.lostPrefix)) {
		// Most likely the late answer of the command that timed out.
		o.log.Debug("atcmd discarding stray line", "len", len(line))
		return
	}
	o.indicate(line, name, at)
}

func (o *owner) handleAnswer(c *call, line string, at time.Time) {
	if c.isEcho(line) {
		return
	}
	if final, err, data := o.finalResult(c, line); final {
		if data != "" {
			c.info = append(c.info, data)
		}
		o.finish(c, c.info, err)
		return
	}
	name := lineName(line)
	urc := isURCName(name, o.opts.URCNames) || (!c.dial && callProgress[strings.ToUpper(line)])
	own := c.prefix != "" && strings.EqualFold(name, c.prefix)
	// A set command's own prefix is unsolicited when the prefix is a URC
	// known by name (AT+CUSD=1 → +CUSD, AT+CREG=2 → +CREG); a read, test or
	// action command's own prefix is its answer (AT+CREG? → +CREG: 0,1).
	switch {
	case own && !(c.setForm && isNamedURC(name, o.opts.URCNames)):
		c.info = append(c.info, line)
		if c.query && o.opts.MissingFinalGrace > 0 {
			c.answered = true
			c.armAlarm(o.opts.MissingFinalGrace)
		}
	case urc:
		o.indicate(line, name, at)
	default:
		c.info = append(c.info, line)
		if c.answered {
			c.armAlarm(o.opts.MissingFinalGrace)
		}
	}
}

// finalResult reports whether line ends the command c, the error it carries
// (nil for OK), and information that shared the line with ERROR (some Huawei
// firmware: "+CNUM: ...ERROR" or "ERROR+CNUM: ...").
func (o *owner) finalResult(c *call, line string) (final bool, err error, data string) {
	u := strings.ToUpper(line)
	switch {
	case u == "OK":
		return true, nil, ""
	case u == "ERROR", u == "COMMAND NOT SUPPORT", u == "TOO MANY PARAMETERS",
		c.dial && callProgress[u]:
		return true, &ResultError{Result: line}, ""
	case hasPrefixFold(line, "+CME ERROR"), hasPrefixFold(line, "+CMS ERROR"):
		return true, parseFinalError(line), ""
	}
	for _, f := range o.opts.FinalResults {
		if strings.EqualFold(f, line) {
			return true, &ResultError{Result: line}, ""
		}
	}
	if c.prefix == "" {
		return false, nil, ""
	}
	// Sliced on the line itself: upper-casing changes the length of
	// invalid UTF-8, which line noise is full of.
	const errWord = "ERROR"
	if n := len(line) - len(errWord); n > 0 && strings.EqualFold(line[n:], errWord) {
		if data := strings.TrimSpace(line[:n]); strings.EqualFold(lineName(data), c.prefix) {
			return true, &ResultError{Result: errWord}, data
		}
	}
	if hasPrefixFold(line, errWord) {
		if data := strings.TrimSpace(line[len(errWord):]); strings.EqualFold(lineName(data), c.prefix) {
			return true, &ResultError{Result: errWord}, data
		}
	}
	return false, nil, ""
}

func (o *owner) onPrompt() {
	c := o.cur
	switch {
	case c == nil || c.syncing:
		// The resync's ESC takes care of a modem waiting for data.
		o.log.Debug("atcmd ignoring data prompt while idle")
	case !c.req.twoStep:
		o.needResync = true
		if o.writeOrStop(c, []byte{0x1b}) {
			o.finish(c, nil, fmt.Errorf("modem prompts for data, use SendData: %w", ErrInvalidCommand))
		}
	case c.prompted:
		// Text mode prompts again after each line of the data.
	case c.req.ctx.Err() != nil:
		o.needResync = true
		if o.writeOrStop(c, []byte{0x1b}) {
			o.finish(c, nil, ctxError(c.req.ctx))
		}
	default:
		c.prompted = true
		c.dataWritten = true
		o.writeOrStop(c, []byte(c.req.data+"\x1a"))
	}
}

func (o *owner) onDeadline() {
	c := o.cur
	if c.syncing {
		o.finish(c, nil, fmt.Errorf("resynchronising: %w", ctxError(c.req.ctx)))
		return
	}
	o.needResync, o.lostPrefix = true, c.prefix
	o.finish(c, nil, ctxError(c.req.ctx))
}

func (o *owner) onAlarm() {
	c := o.cur
	if c.syncing {
		o.finish(c, nil, fmt.Errorf("resynchronising: no answer to %s within %v: %w", c.marker.cmd, o.opts.ResyncTimeout, ErrTimeout))
		return
	}
	// The answer came but no final result: take the answer, and resync in
	// case the final result is merely late.
	o.needResync, o.lostPrefix = true, ""
	o.finish(c, c.info, nil)
}

func (o *owner) indicate(line, name string, at time.Time) {
	ind := Indication{Name: name, Line: line, At: at}
	if c := o.cur; c != nil && ind.IsReboot() {
		// AT+CFUN announces its own "+CFUN: 1"; anything else in flight is lost.
		if !(strings.EqualFold(c.prefix, "+CFUN") && strings.EqualFold(name, "+CFUN")) {
			// Like every command that ends without its final result, the
			// next one resyncs: the rest of the boot burst must not end it.
			o.needResync, o.lostPrefix = true, c.prefix
			o.finish(c, nil, ErrReboot)
		}
	}
	if takesPDULine(name) {
		o.pendingPDU = &ind
		return
	}
	o.dispatch(ind)
}

// finish completes c once; a missing final result after SendData wrote data
// becomes ErrOutcomeUnknown.
func (o *owner) finish(c *call, lines []string, err error) {
	if o.cur != c {
		return
	}
	o.cur = nil
	c.stopAlarm()
	if err != nil {
		if c.req.twoStep && c.dataWritten && !isModemFinal(err) {
			err = fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		}
		err = fmt.Errorf("atcmd %s: %w", c.label, err)
	}
	c.req.res <- result{lines: lines, err: err}
}

func isModemFinal(err error) bool {
	var cme *CMEError
	var cms *CMSError
	var res *ResultError
	return errors.As(err, &cme) || errors.As(err, &cms) || errors.As(err, &res)
}
