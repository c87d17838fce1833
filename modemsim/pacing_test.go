package modemsim

import (
	"testing"
	"time"
)

// With BaudPacing the modem's answers take the time a real serial line at
// that rate would need; unpaced, a long answer arrives at once.
func TestOutputIsPacedAtTheConfiguredBaudRate(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{Clock: RealClock()})
	paced := addModem(t, n, ModemConfig{Dialect: Generic, BaudPacing: 2400, NoisePeriod: -1})
	c := dial(t, paced.Path())
	c.cmd("ATE0")
	began := time.Now()
	out := c.cmd("AT+CGMI;+CGMM;+CGMR;+CGSN;+CIMI")
	took := time.Since(began)
	// 10 bits a byte; the last 16-byte chunk may go out before its pause.
	minimum := time.Duration((len(out)/16-1)*16*10) * time.Second / 2400
	if len(out) < 64 || took < minimum {
		t.Fatalf("%d bytes took %s, a 2400 baud line needs at least %s", len(out), took, minimum)
	}
}
