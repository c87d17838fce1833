package gsm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

// SIMState is what AT+CPIN? says of the SIM.
type SIMState int

const (
	SIMReady    SIMState = iota // READY, or an answer without a code
	SIMMissing                  // CME 10 (not inserted) or 13 (failure)
	SIMWrong                    // CME 15: the card is not a usable SIM
	SIMBusy                     // CME 14: still starting, ask again
	SIMNeedsPIN                 // SIM PIN
	SIMNeedsPUK                 // SIM PUK: blocked
	SIMWants                    // any other code (PH-SIM PIN, SIM PIN2, ...), in Detail
)

// SIMStatus is the SIM's state and what the modem said: the CME error's
// text for Missing, Wrong and Busy, the +CPIN code otherwise.
type SIMStatus struct {
	State  SIMState
	Detail string
}

// simStatus asks whether the SIM is there and open (AT+CPIN?). The SIM's own
// refusals come back as a state; other errors (port, timeout, a CME code
// that says nothing of the SIM) as the engine's error.
func simStatus(ctx context.Context, c commander) (SIMStatus, error) {
	lines, err := c.Exec(ctx, "AT+CPIN?")
	var cme *atcmd.CMEError
	switch {
	case errors.As(err, &cme) && (cme.Code == 10 || cme.Code == 13):
		return SIMStatus{SIMMissing, cme.Error()}, nil
	case errors.As(err, &cme) && cme.Code == 15:
		return SIMStatus{SIMWrong, cme.Error()}, nil
	case errors.As(err, &cme) && cme.Code == 14:
		return SIMStatus{SIMBusy, "SIM busy"}, nil
	case err != nil:
		return SIMStatus{}, err
	}
	code := ""
	if len(lines) > 0 {
		code, _ = atcmd.ParseCPIN(lines[0])
	}
	switch code {
	case "READY", "":
		return SIMStatus{SIMReady, code}, nil
	case "SIM PIN":
		return SIMStatus{SIMNeedsPIN, code}, nil
	case "SIM PUK":
		return SIMStatus{SIMNeedsPUK, code}, nil
	}
	return SIMStatus{SIMWants, code}, nil
}

// pinAttemptsLeft reads the PIN retry counter (27.007 AT+CPINR); -1 when
// the modem does not say.
func pinAttemptsLeft(ctx context.Context, c commander) int {
	lines, err := c.Exec(ctx, `AT+CPINR="SIM PIN"`)
	if err != nil {
		return -1
	}
	for _, l := range lines {
		rest, ok := strings.CutPrefix(strings.TrimSpace(l), "+CPINR:")
		if !ok {
			continue
		}
		f := strings.Split(rest, ",")
		if len(f) >= 2 && strings.EqualFold(strings.Trim(strings.TrimSpace(f[0]), `"`), "SIM PIN") {
			var n int
			if _, err := fmt.Sscan(strings.TrimSpace(f[1]), &n); err == nil {
				return n
			}
		}
	}
	return -1
}

// enterPIN gives the SIM its PIN (AT+CPIN="...") once. Whether to, and how
// often, is the caller's policy: a wrong PIN tried three times locks the
// simStatus. A PIN of anything but 4 to 8 digits is refused before it reaches the
// modem, where a quote would end the argument.
func enterPIN(ctx context.Context, c commander, pin string) error {
	if len(pin) < 4 || len(pin) > 8 || strings.Trim(pin, "0123456789") != "" {
		return fmt.Errorf("gsm: a PIN is 4 to 8 digits: %w", atcmd.ErrInvalidCommand)
	}
	_, err := c.Exec(ctx, `AT+CPIN="`+pin+`"`)
	return err
}

// Registration is the network registration as +CREG reports it (Stat 1
// home, 5 roaming, 2 searching, 3 denied, 0 not searching), under gsm's
// name: the engine's type.
type Registration = atcmd.Registration

// registration reads the modem's network registration (AT+CREG?). A
// modem that answers without a readable +CREG line gives ErrUnreadable; a
// refusal (CME) is the engine's error, as is a lost port.
func registration(ctx context.Context, c commander) (atcmd.Registration, error) {
	line, err := first(ctx, c, "AT+CREG?")
	if err != nil {
		return atcmd.Registration{}, err
	}
	reg, err := atcmd.ParseRegistration(line)
	if err != nil {
		return atcmd.Registration{}, fmt.Errorf("AT+CREG?: %w: %w", ErrUnreadable, err)
	}
	return reg, nil
}
