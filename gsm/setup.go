package gsm

import (
	"context"
	"fmt"
)

// Hello sets what every exchange in this package relies on: no echo
// (ATE0) and numeric errors (AT+CMEE=1), so a CME code is a code. It is
// all a short session needs (the CLI's direct mode, scan); the daemon's
// set-up does more. The first refusal ends it, naming the command.
func Hello(ctx context.Context, c Commander) error {
	for _, cmd := range []string{"ATE0", "AT+CMEE=1"} {
		if _, err := c.Exec(ctx, cmd); err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
	}
	return nil
}
