package atcmd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors; test with errors.Is. The engine wraps them with the
// command's name and, where there is one, the underlying cause.
var (
	// ErrTimeout: the command's deadline passed without a final result, or the
	// line could not be resynchronised before the command in time.
	ErrTimeout = errors.New("atcmd: timeout")
	// ErrOutcomeUnknown: SendData wrote (part of) its data and then lost track
	// of the modem, so the message may or may not have been sent.
	ErrOutcomeUnknown = errors.New("atcmd: outcome unknown")
	// ErrHung: a Write blocked longer than Options.WriteTimeout.
	ErrHung = errors.New("atcmd: write hung")
	// ErrPortLost: a Read on the port failed (the error is wrapped as well).
	ErrPortLost = errors.New("atcmd: port lost")
	// ErrClosed: the engine was closed.
	ErrClosed = errors.New("atcmd: engine closed")
	// ErrReboot: the modem announced a restart while the command ran.
	ErrReboot = errors.New("atcmd: modem rebooted")
	// ErrInvalidCommand: the command or data cannot be sent as given.
	ErrInvalidCommand = errors.New("atcmd: invalid command")
)

// CMEError is a "+CME ERROR: <n>" or verbose "+CME ERROR: <text>" final result
// (3GPP TS 27.007 §9.2). Code is -1 when verbose text had no known code.
type CMEError struct {
	Code int
	Text string
}

func (e *CMEError) Error() string { return formatCode(e.Text, "CME", e.Code) }

// CMSError is a "+CMS ERROR: <n>" final result (3GPP TS 27.005 §3.2.5,
// TP causes from TS 23.040 §9.2.3.22, network causes from TS 24.011).
type CMSError struct {
	Code int
	Text string
}

func (e *CMSError) Error() string { return formatCode(e.Text, "CMS", e.Code) }

// Transient reports whether retrying the same message later is expected to
// help (field notes: network out of order, congestion, no service, timeouts,
// SIM busy right after boot, unknown and the first vendor codes).
func (e *CMSError) Transient() bool {
	switch c := e.Code; {
	case c == 38, c == 41, c == 42, c == 47, c == 192, c == 212, c == 314,
		c == 331, c == 332, c == 500, c >= 512 && c <= 515:
		return true
	}
	return false
}

// Permanent reports whether the message itself is refused (bad number,
// barred destination, malformed PDU), so resending it unchanged is useless.
// A refusal of the sending SIM (SIMBarred) is not: the message may go
// through another SIM.
func (e *CMSError) Permanent() bool {
	switch c := e.Code; {
	case c == 1, c == 21, c == 28, c == 29, c == 30,
		c == 69, c >= 95 && c <= 99, c >= 128 && c <= 191,
		c == 193, c >= 195 && c <= 199, c == 304, c == 305:
		return true
	}
	return false
}

// SIMBarred reports whether the network refuses the sending subscriber
// rather than the message (TS 24.011 §8.2.5.4): its operator barred it,
// typically for an unpaid bill (8), its outgoing barring applies (10), or
// SMS is not in its subscription (50). Every message through that SIM
// fails alike until someone fixes the account.
func (e *CMSError) SIMBarred() bool {
	switch e.Code {
	case 8, 10, 50:
		return true
	}
	return false
}

// ResultError is a final result that is neither OK nor a CME/CMS error:
// plain "ERROR" and vendor or call-progress results such as
// "COMMAND NOT SUPPORT", "TOO MANY PARAMETERS" or "NO CARRIER".
type ResultError struct {
	Result string
}

func (e *ResultError) Error() string { return "modem answered " + e.Result }

func formatCode(text, family string, code int) string {
	switch {
	case code < 0:
		return fmt.Sprintf("%s (%s)", text, family)
	case text == "":
		return fmt.Sprintf("%s error %d", family, code)
	}
	return fmt.Sprintf("%s (%s %d)", text, family, code)
}

// parseFinalError turns an error final-result line into its typed error.
func parseFinalError(line string) error {
	switch {
	case hasPrefixFold(line, "+CME ERROR"):
		code, text := parseCodeOrText(line[len("+CME ERROR"):], cme)
		return &CMEError{Code: code, Text: text}
	case hasPrefixFold(line, "+CMS ERROR"):
		code, text := parseCodeOrText(line[len("+CMS ERROR"):], cms)
		return &CMSError{Code: code, Text: text}
	}
	return &ResultError{Result: line}
}

// codeFamily knows the texts of one error family, the verbose spellings
// firmware uses instead of the 3GPP wording, and what to say for a code
// outside the table.
type codeFamily struct {
	texts    map[int]string
	aliases  map[string]int
	fallback func(code int) string
}

var (
	cme = codeFamily{texts: cmeTexts, aliases: cmeAliases, fallback: func(int) string { return "" }}
	cms = codeFamily{texts: cmsTexts, fallback: cmsRange}
)

func (f codeFamily) text(code int) string {
	if t, ok := f.texts[code]; ok {
		return t
	}
	return f.fallback(code)
}

func cmsRange(code int) string {
	switch {
	case code >= 0 && code < 128:
		return "network cause"
	case code >= 128 && code < 256:
		return "TP cause"
	case code >= 512:
		return "vendor error"
	}
	return ""
}

func parseCodeOrText(rest string, f codeFamily) (int, string) {
	rest = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
	rest = strings.TrimSpace(strings.Trim(rest, `"`))
	if n, err := strconv.Atoi(rest); err == nil {
		return n, f.text(n)
	}
	key := normaliseText(rest)
	for code, text := range f.texts {
		if normaliseText(text) == key {
			return code, text
		}
	}
	if code, ok := f.aliases[key]; ok {
		return code, f.text(code)
	}
	return -1, rest
}

// hasPrefixFold is strings.HasPrefix ignoring case, safe to slice after:
// the prefix is compared on the same bytes of s.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func normaliseText(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// cmeAliases holds verbose spellings seen in firmware that differ from the
// 3GPP wording.
var cmeAliases = map[string]int{
	"sim not present": 10,
	"no sim":          10,
	"phone busy":      14,
	"wrong password":  16,
	"no network":      30,
	"unknown error":   100,
}

// cmeTexts: 3GPP TS 27.007 §9.2.
var cmeTexts = map[int]string{
	0: "phone failure", 1: "no connection to phone", 2: "phone-adaptor link reserved",
	3: "operation not allowed", 4: "operation not supported", 5: "PH-SIM PIN required",
	6: "PH-FSIM PIN required", 7: "PH-FSIM PUK required", 10: "SIM not inserted",
	11: "SIM PIN required", 12: "SIM PUK required", 13: "SIM failure", 14: "SIM busy",
	15: "SIM wrong", 16: "incorrect password", 17: "SIM PIN2 required", 18: "SIM PUK2 required",
	20: "memory full", 21: "invalid index", 22: "not found", 23: "memory failure",
	24: "text string too long", 25: "invalid characters in text string",
	26: "dial string too long", 27: "invalid characters in dial string",
	30: "no network service", 31: "network timeout",
	32: "network not allowed - emergency calls only",
	40: "network personalization PIN required", 41: "network personalization PUK required",
	42: "network subset personalization PIN required",
	43: "network subset personalization PUK required",
	44: "service provider personalization PIN required",
	45: "service provider personalization PUK required",
	46: "corporate personalization PIN required", 47: "corporate personalization PUK required",
	48: "hidden key required", 49: "EAP method not supported", 50: "incorrect parameters",
	100: "unknown", 103: "illegal MS", 106: "illegal ME", 107: "GPRS services not allowed",
	111: "PLMN not allowed", 112: "location area not allowed",
	113: "roaming not allowed in this location area", 114: "GPRS services not allowed in this PLMN",
	115: "no suitable cells in location area", 132: "service option not supported",
	133: "requested service option not subscribed", 134: "service option temporarily out of order",
	148: "unspecified GPRS error", 149: "PDP authentication failure", 150: "invalid mobile class",
	257: "network rejected request", 258: "retry operation", 259: "invalid deflected to number",
	260: "deflected to own number", 261: "unknown subscriber", 262: "service not available",
	263: "unknown class specified", 264: "unknown network message",
}

// cmsTexts: 3GPP TS 27.005 §3.2.5 with the TS 24.011 / 23.040 causes below 300.
var cmsTexts = map[int]string{
	1: "unassigned number", 8: "operator determined barring", 10: "call barred",
	21: "short message transfer rejected", 27: "destination out of service",
	28: "unidentified subscriber", 29: "facility rejected", 30: "unknown subscriber",
	38: "network out of order", 41: "temporary failure", 42: "congestion",
	47: "resources unavailable", 50: "requested facility not subscribed",
	69: "requested facility not implemented", 81: "invalid short message transfer reference value",
	95: "invalid message", 96: "invalid mandatory information",
	97: "message type non-existent or not implemented",
	98: "message not compatible with short message protocol state",
	99: "information element non-existent or not implemented", 111: "protocol error",
	127: "interworking unspecified", 128: "telematic interworking not supported",
	129: "short message type 0 not supported", 130: "cannot replace short message",
	143: "unspecified TP-PID error", 144: "data coding scheme not supported",
	145: "message class not supported", 159: "unspecified TP-DCS error",
	160: "command cannot be actioned", 161: "command unsupported",
	175: "unspecified TP-command error", 176: "TPDU not supported", 192: "SC busy",
	193: "no SC subscription", 194: "SC system failure", 195: "invalid SME address",
	196: "destination SME barred", 197: "SM rejected-duplicate SM", 198: "TP-VPF not supported",
	199: "TP-VP not supported", 208: "SIM SMS storage full", 209: "no SMS storage capability in SIM",
	210: "error in MS", 211: "memory capacity exceeded", 212: "SIM application toolkit busy",
	213: "SIM data download error", 255: "unspecified error cause", 300: "ME failure",
	301: "SMS service of ME reserved", 302: "operation not allowed", 303: "operation not supported",
	304: "invalid PDU mode parameter", 305: "invalid text mode parameter", 310: "SIM not inserted",
	311: "SIM PIN required", 312: "PH-SIM PIN required", 313: "SIM failure", 314: "SIM busy",
	315: "SIM wrong", 316: "SIM PUK required", 317: "SIM PIN2 required", 318: "SIM PUK2 required",
	320: "memory failure", 321: "invalid memory index", 322: "memory full",
	330: "SMSC address unknown", 331: "no network service", 332: "network timeout",
	340: "no +CNMA acknowledgement expected", 500: "unknown error",
}
