package gsm

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/atcmd"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// USSDOptions tune one exchange.
type USSDOptions struct {
	Dialect ussd.Dialect
	// huawei retries a refused AT+CUSD=1 once after AT^USSDMODE=0: some
	// Huawei firmware takes no request before it (field notes). Modem.USSD
	// sets it from the modem's vendor.
	huawei bool
	// ReplyTimeout bounds the wait for +CUSD after the modem's OK; networks
	// take up to 30-60 s.
	ReplyTimeout time.Duration
	// TerminatedGrace is how long a "+CUSD: 2" that arrives first waits for
	// the real answer that some networks send after it (default 3 s).
	TerminatedGrace time.Duration
}

// USSD failure kinds, as the API shows them in error codes.
const (
	USSDTerminated     = "terminated"      // +CUSD: 2 and nothing after it
	USSDOtherClient    = "other_client"    // +CUSD: 3
	USSDNotSupported   = "not_supported"   // +CUSD: 4
	USSDNetworkTimeout = "network_timeout" // +CUSD: 5
	USSDModemError     = "modem_error"     // +CME ERROR after the OK
	USSDNoAnswer       = "no_answer"       // nothing within ReplyTimeout
	USSDMalformed      = "malformed"       // a +CUSD line that could not be read
)

// USSDError is a request the network or the modem answered with a failure,
// or did not answer. Code is the modem's own ("+CUSD: 4", "+CME ERROR: 258");
// Text and Raw keep a reply that came with it. Error() leaves them out: a
// reply may carry the subscriber's number.
type USSDError struct {
	Kind    string
	Code    string
	Meaning string
	Text    string
	Raw     string
}

func (e *USSDError) Error() string {
	if e.Code == "" {
		return "ussd: " + e.Meaning
	}
	return "ussd: " + e.Code + " (" + e.Meaning + ")"
}

// subscriber is what the USSD exchange needs from the engine: answers come
// as indications.
type subscriber interface {
	commander
	Subscribe() (<-chan atcmd.Indication, func())
}

// exchangeUSSD sends one USSD string (a service code, or a menu answer
// inside an open session) with AT+CUSD=1 and waits for the network's answer.
// The subscription starts before the request, so an answer that races the OK
// is not lost. A reply with Status ussd.StatusActionRequired leaves the
// network session open: answer it with another exchange or end it with
// endUSSD. When the wait ends without an answer (timeout, ctx) the pending
// request is cancelled with AT+CUSD=2.
func exchangeUSSD(ctx context.Context, eng subscriber, s string, opt USSDOptions) (ussd.Reply, error) {
	arg, dcs, err := ussd.EncodeRequest(s, opt.Dialect)
	if err != nil {
		return ussd.Reply{}, err
	}
	if opt.ReplyTimeout <= 0 {
		opt.ReplyTimeout = 60 * time.Second
	}
	if opt.TerminatedGrace <= 0 {
		opt.TerminatedGrace = 3 * time.Second
	}
	inds, unsubscribe := eng.Subscribe()
	defer unsubscribe()
	cmd := `AT+CUSD=1,"` + arg + `",` + strconv.Itoa(dcs)
	_, err = eng.Exec(ctx, cmd)
	if err != nil && opt.huawei && refused(err) {
		if _, modeErr := eng.Exec(ctx, "AT^USSDMODE=0"); modeErr == nil {
			_, err = eng.Exec(ctx, cmd)
		}
	}
	if err != nil {
		return ussd.Reply{}, fmt.Errorf("ussd request: %w", err)
	}
	reply, err := awaitCUSD(ctx, inds, opt)
	var ue *USSDError
	if ctx.Err() != nil || (errors.As(err, &ue) && ue.Kind == USSDNoAnswer) {
		// The modem may still be waiting for the network: free it for the
		// next request, even when our own caller has gone.
		endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		endUSSD(endCtx, eng)
		cancel()
	}
	return reply, err
}

// refused tells a modem's refusal of the command itself from a lost line.
func refused(err error) bool {
	var re *atcmd.ResultError
	var cme *atcmd.CMEError
	return errors.As(err, &re) || errors.As(err, &cme)
}

// maxCUSDLines bounds how many lines one +CUSD reply may span.
const maxCUSDLines = 64

func awaitCUSD(ctx context.Context, inds <-chan atcmd.Indication, opt USSDOptions) (ussd.Reply, error) {
	timer := time.NewTimer(opt.ReplyTimeout)
	defer timer.Stop()
	deadline := time.Now().Add(opt.ReplyTimeout)
	var terminated *ussd.Reply
	// A reply in text mode may hold line breaks, which end the indication:
	// the lines up to the closing quote arrive as indications of their own.
	var pending []string
	for {
		select {
		case <-ctx.Done():
			return ussd.Reply{}, ctx.Err()
		case <-timer.C:
			if terminated != nil {
				return *terminated, &USSDError{Kind: USSDTerminated, Code: "+CUSD: 2", Meaning: ussd.StatusTerminated.Meaning(), Text: terminated.Text, Raw: terminated.Raw}
			}
			return ussd.Reply{}, &USSDError{Kind: USSDNoAnswer, Meaning: "no answer from the network within " + opt.ReplyTimeout.String()}
		case ind, ok := <-inds:
			if !ok {
				return ussd.Reply{}, fmt.Errorf("ussd: waiting for the answer: %w", atcmd.ErrPortLost)
			}
			if ind.IsReboot() {
				return ussd.Reply{}, fmt.Errorf("ussd: waiting for the answer: %w", atcmd.ErrReboot)
			}
			line := ind.Line
			if pending != nil {
				pending = append(pending, line)
				if joined := strings.Join(pending, "\n"); !cusdComplete(joined) && len(pending) < maxCUSDLines {
					continue
				}
				line, pending = strings.Join(pending, "\n"), nil
			} else {
				switch strings.ToUpper(ind.Name) {
				case "+CUSD":
					if !cusdComplete(line) {
						pending = []string{line}
						continue
					}
				case "+CME ERROR":
					code, meaning := lateCME(line)
					return ussd.Reply{}, &USSDError{Kind: USSDModemError, Code: "+CME ERROR: " + code, Meaning: meaning}
				default:
					continue
				}
			}
			r, err := ussd.ParseCUSD(line)
			if err != nil {
				return ussd.Reply{}, &USSDError{Kind: USSDMalformed, Meaning: err.Error(), Raw: ind.Line}
			}
			switch r.Status {
			case ussd.StatusDone, ussd.StatusActionRequired:
				return r, nil
			case ussd.StatusTerminated:
				if terminated == nil {
					// Some networks end a stale session first and answer
					// right after: give the real answer a moment.
					terminated = &r
					timer.Reset(min(opt.TerminatedGrace, max(time.Until(deadline), 0)))
				}
				continue
			}
			kind := map[ussd.Status]string{ussd.StatusOtherClient: USSDOtherClient, ussd.StatusNotSupported: USSDNotSupported, ussd.StatusTimeout: USSDNetworkTimeout}[r.Status]
			if kind == "" {
				kind = USSDMalformed
			}
			return r, &USSDError{Kind: kind, Code: "+CUSD: " + strconv.Itoa(int(r.Status)), Meaning: r.Status.Meaning(), Text: r.Text, Raw: r.Raw}
		}
	}
}

// cusdEnd is how a +CUSD reply with a data coding scheme ends.
var cusdEnd = regexp.MustCompile(`",\s*\d+\s*$`)

// cusdComplete reports whether s is a whole +CUSD reply rather than the
// first lines of a text reply broken by line breaks. The text itself may
// hold quotes ("Smart" tariff), so the end is the quote before the coding
// scheme, or, without one, a closing quote that pairs all quotes up.
func cusdComplete(s string) bool {
	s = strings.TrimSpace(s)
	n := strings.Count(s, `"`)
	return n == 0 || cusdEnd.MatchString(s) || n%2 == 0 && strings.HasSuffix(s, `"`)
}

// ussdCMEMeanings are the 27.007 texts of the codes that modems send as a
// late USSD failure; the engine hands such a line over as an indication, not
// as a parsed error.
var ussdCMEMeanings = map[string]string{
	"3": "operation not allowed", "4": "operation not supported", "30": "no network service",
	"31": "network timeout", "100": "unknown", "132": "service option not supported",
	"133": "requested service option not subscribed", "134": "service option temporarily out of order",
	"257": "network rejected request", "258": "retry operation", "262": "service not available",
}

func lateCME(line string) (code, meaning string) {
	_, rest, _ := strings.Cut(line, ":")
	code = strings.TrimSpace(rest)
	if m, ok := ussdCMEMeanings[code]; ok {
		return code, m
	}
	if _, err := strconv.Atoi(code); err != nil {
		return code, code // verbose form (AT+CMEE=2): the text is the meaning
	}
	return code, "modem error " + code
}

// endUSSD ends the modem's USSD session (AT+CUSD=2): an abandoned menu, or a
// request the network never answered.
func endUSSD(ctx context.Context, eng commander) error {
	if _, err := eng.Exec(ctx, "AT+CUSD=2"); err != nil {
		return fmt.Errorf("ussd end: %w", err)
	}
	return nil
}

// readCharset returns the modem's AT+CSCS setting ("GSM", "UCS2", ...), ""
// when it does not say.
func readCharset(ctx context.Context, eng commander) string {
	lines, err := eng.Exec(ctx, "AT+CSCS?")
	if err != nil {
		return ""
	}
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "+CSCS:"); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// Where a USSD dialect came from.
const (
	DialectFromConfig   = "config"
	DialectFromLearned  = "learned"
	DialectFromIdentity = "identity"
)

// PickUSSDDialect chooses how to write requests for a modem: a configured
// dialect wins, then one learned from an earlier reply of the same model and
// firmware, then the guess from the maker and character set.
func PickUSSDDialect(configured, learned, manufacturer, charset string) (ussd.Dialect, string) {
	switch {
	case configured != "":
		return ussd.Dialect(configured), DialectFromConfig
	case learned != "":
		return ussd.Dialect(learned), DialectFromLearned
	}
	return ussd.DialectFor(manufacturer, charset), DialectFromIdentity
}
