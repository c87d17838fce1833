package gsm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

// hello sets what every exchange in this package relies on: no echo
// (ATE0) and numeric errors (AT+CMEE=1), so a CME code is a code. It is
// all a short session needs (the CLI's direct mode, scan); the daemon's
// set-up does more. The first refusal ends it, naming the command.
func hello(ctx context.Context, c commander) error {
	for _, cmd := range []string{"ATE0", "AT+CMEE=1"} {
		if _, err := c.Exec(ctx, cmd); err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
	}
	return nil
}

// Prepare applies the settings the service relies on: no echo, numeric
// errors, PDU mode, and registration changes reported unasked (AT+CREG=1,
// so a denied or lost registration is learned without polling). A modem
// that refuses AT+CREG=1 is served all the same (health checks poll); one
// that times out on it is not. Waiting out "SIM busy" after power-up,
// by calling again, is the caller's policy.
func (m *Modem) Prepare(ctx context.Context) error {
	for _, cmd := range []string{"ATE0", "AT+CMEE=1", "AT+CMGF=0", "AT+CREG=1"} {
		if _, err := m.eng.Exec(ctx, cmd); err != nil {
			if cmd == "AT+CREG=1" && !errors.Is(err, atcmd.ErrTimeout) {
				continue
			}
			return fmt.Errorf("init %s: %w", cmd, err)
		}
	}
	return nil
}

// Ping asks whether the modem answers at all (AT).
func (m *Modem) Ping(ctx context.Context) error {
	_, err := m.eng.Exec(ctx, "AT")
	return err
}

// RadioOn switches the radio on when something left it off (a radio
// restart cut short, a previous host, a person with minicom): AT+CFUN?
// answering 0 (minimum) or 4 (flight mode). wasOff says it did; a modem
// that does not say is left as it is.
func (m *Modem) RadioOn(ctx context.Context) (wasOff bool, err error) {
	line, err := first(ctx, m.eng, "AT+CFUN?")
	if err != nil {
		return false, err
	}
	if v := strings.TrimSpace(strings.TrimPrefix(line, "+CFUN:")); strings.HasPrefix(v, "0") || strings.HasPrefix(v, "4") {
		_, err := m.eng.Exec(ctx, "AT+CFUN=1")
		return true, err
	}
	return false, nil
}

// RestartRadio restarts the radio (AT+CFUN=0, then 1). It reports whether
// it was tried at all: a modem that does not take CFUN=0 cannot even take
// that. A radio left off by a half-done restart is RadioOn's.
func (m *Modem) RestartRadio(ctx context.Context) (tried bool) {
	if _, err := m.eng.Exec(ctx, "AT+CFUN=0"); err != nil {
		return false
	}
	m.eng.Exec(ctx, "AT+CFUN=1")
	return true
}
