package gsm

import (
	"context"
	"errors"
	"fmt"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

// ErrUnreadable: the modem answered OK but not in a form this package
// reads (no information line, or a malformed one). The command is in the
// error's text; callers that only want a value treat it as "the modem does
// not say".
var ErrUnreadable = errors.New("gsm: answer not understood")

// signal reads the signal quality (AT+CSQ). An RSSI of 99 comes back as a
// signal with Known false, not as an error.
func signal(ctx context.Context, c commander) (atcmd.Signal, error) {
	line, err := first(ctx, c, "AT+CSQ")
	if err != nil {
		return atcmd.Signal{}, err
	}
	q, err := atcmd.ParseCSQ(line)
	if err != nil {
		return atcmd.Signal{}, fmt.Errorf("AT+CSQ: %w: %w", ErrUnreadable, err)
	}
	return q, nil
}

// first runs cmd and returns its first information line. The engine's error
// is returned as it is, so a CME code stays visible to errors.As.
func first(ctx context.Context, c commander, cmd string) (string, error) {
	lines, err := c.Exec(ctx, cmd)
	if err != nil {
		return "", err
	}
	if len(lines) == 0 {
		return "", fmt.Errorf("%s: %w: no information line", cmd, ErrUnreadable)
	}
	return lines[0], nil
}
