package gsm

import (
	"errors"
	"strconv"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

// The engine's sentinel errors, under gsm's name: the same values, so
// errors.Is works with either.
var (
	// ErrTimeout: the modem did not answer within the command's deadline.
	ErrTimeout = atcmd.ErrTimeout
	// ErrOutcomeUnknown: SendPDU wrote its data and then lost the modem.
	ErrOutcomeUnknown = atcmd.ErrOutcomeUnknown
	// ErrPortLost: reading the port failed (the tty went away).
	ErrPortLost = atcmd.ErrPortLost
	// ErrHung: writing to the port blocked.
	ErrHung = atcmd.ErrHung
	// ErrClosed: the engine was closed.
	ErrClosed = atcmd.ErrClosed
	// ErrReboot: the modem announced a restart while a command ran.
	ErrReboot = atcmd.ErrReboot
)

// Failure is what an error from the modem means for the work that met it.
type Failure struct {
	// Code keeps the modem's own code visible: "CMS 38", "CME 10", or
	// "outcome_unknown", "timeout", "port_lost", "error".
	Code string
	// Message is the error's text, the modem's meaning with its code:
	// "network out of order (CMS 38)".
	Message string
	// Permanent: the network or modem refused the message itself (a bad
	// number, a barred destination, a malformed PDU): sending it again
	// unchanged cannot help.
	Permanent bool
	// SIMBarred: the network refused the sending SIM, not the message
	// (barred by its operator, often for an unpaid bill): nothing went
	// out, another SIM may send it, and this one fails every message
	// until its account is fixed.
	SIMBarred bool
	// OutcomeUnknown: the message may or may not have gone out.
	OutcomeUnknown bool
	// ModemFault: the modem itself failed the command: it answered with an
	// error (ERROR, CMS, CME, a vendor's final result), restarted, or went
	// away. Not a deadline: a modem that is only slow is not at fault yet.
	ModemFault bool
}

// CMEError is the engine's +CME ERROR (a SIM or equipment refusal), under
// gsm's name: the same type, so errors.As works with either.
type CMEError = atcmd.CMEError

// Classify reads an error from this package or the engine. nil is no
// failure (the zero Failure).
func Classify(err error) Failure {
	if err == nil {
		return Failure{}
	}
	f := classify(err)
	var re *atcmd.ResultError
	var cms *atcmd.CMSError
	var cme *atcmd.CMEError
	f.ModemFault = errors.As(err, &re) || errors.As(err, &cms) || errors.As(err, &cme) ||
		errors.Is(err, ErrPortLost) || errors.Is(err, ErrReboot) || errors.Is(err, ErrHung)
	return f
}

func classify(err error) Failure {
	var cms *atcmd.CMSError
	var cme *atcmd.CMEError
	switch {
	case errors.Is(err, atcmd.ErrOutcomeUnknown):
		return Failure{Code: "outcome_unknown", Message: err.Error(), OutcomeUnknown: true}
	case errors.As(err, &cms):
		return Failure{Code: "CMS " + strconv.Itoa(cms.Code), Message: cms.Error(), Permanent: cms.Permanent(), SIMBarred: cms.SIMBarred()}
	case errors.As(err, &cme):
		return Failure{Code: "CME " + strconv.Itoa(cme.Code), Message: cme.Error()}
	case errors.Is(err, atcmd.ErrTimeout):
		return Failure{Code: "timeout", Message: err.Error()}
	case errors.Is(err, atcmd.ErrPortLost), errors.Is(err, atcmd.ErrHung):
		return Failure{Code: "port_lost", Message: err.Error()}
	}
	return Failure{Code: "error", Message: err.Error()}
}
