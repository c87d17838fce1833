package atcmd

import (
	"context"
	"errors"
	"strings"
)

// commandNames is the fixed vocabulary CommandName maps onto. Metrics label
// commands with it, so it must stay small and must never carry arguments:
// "AT+CMGS=23" holds a length, "AT+CUSD=1,..." a USSD code, "ATD..." a phone
// number.
var commandNames = map[string]bool{
	"AT": true, "E": true, "Z": true, "I": true, "D": true,
	"CMGS": true, "CMGR": true, "CMGL": true, "CMGD": true, "CMGF": true, "CMGW": true,
	"CNMI": true, "CNMA": true, "CPMS": true, "CSMS": true, "CSCA": true, "CSCS": true,
	"CMEE": true, "CSQ": true, "CREG": true, "CGREG": true, "CEREG": true, "COPS": true,
	"CPIN": true, "CIMI": true, "CGSN": true, "CGMI": true, "CGMM": true, "CGMR": true,
	"CCID": true, "QCCID": true, "ICCID": true, "ZGETICCID": true, "CRSM": true,
	"CNUM": true, "CUSD": true, "USSDMODE": true, "CURC": true, "CFUN": true,
}

// CommandName names a command line by its command alone, from a fixed set:
// "AT+CMGS=23" is "CMGS", `AT+CUSD=1,"*100#",15` is "CUSD", "AT^ICCID?" is
// "ICCID", "ATE0" is "E", "ATD+7916..." is "D"; anything else is "other".
func CommandName(cmd string) string {
	cmd = strings.TrimSpace(cmd)
	if len(cmd) < 2 || !strings.EqualFold(cmd[:2], "AT") {
		return "other"
	}
	body := cmd[2:]
	if body == "" {
		return "AT"
	}
	var name string
	if isPrefixStart(body[0]) {
		end := strings.IndexAny(body, "=?;")
		if end < 0 {
			end = len(body)
		}
		name = strings.ToUpper(body[1:end])
	} else {
		name = strings.ToUpper(body[:1])
	}
	if commandNames[name] {
		return name
	}
	return "other"
}

// Outcome classifies a command's error into a fixed set: "ok", "error" (a
// plain ERROR or vendor final result), "cme", "cms", "timeout",
// "unknown_outcome" (data went out and the answer did not come back),
// "port_lost", "hung", "reboot", "closed", "canceled" or "other".
func Outcome(err error) string {
	var cme *CMEError
	var cms *CMSError
	var res *ResultError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrOutcomeUnknown):
		return "unknown_outcome"
	case errors.As(err, &cme):
		return "cme"
	case errors.As(err, &cms):
		return "cms"
	case errors.As(err, &res):
		return "error"
	case errors.Is(err, ErrTimeout):
		return "timeout"
	case errors.Is(err, ErrPortLost):
		return "port_lost"
	case errors.Is(err, ErrHung):
		return "hung"
	case errors.Is(err, ErrReboot):
		return "reboot"
	case errors.Is(err, ErrClosed):
		return "closed"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "other"
}
