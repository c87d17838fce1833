package gsm

import (
	"context"
	"strconv"

	"github.com/gsmbridge/gsmbridge/atcmd"
	"github.com/gsmbridge/gsmbridge/sms"
)

// SendPDU sends one SMS part in PDU mode (AT+CMGS=<TPDU octets>, then the
// PDU and Ctrl-Z at the "> " prompt) and returns the message reference the
// modem gave it (+CMGS: <mr>), which its status report will carry. mr is
// -1 when the modem gave none legibly: the part went out all the same.
//
// The engine's error comes back as it is: Classify tells what it means,
// and ErrOutcomeUnknown says the PDU may have gone out (the modem was lost
// after the data was written), so the part must not be sent again blindly.
// The deadline is ctx's: a part cut off mid-send has an unknown outcome, so
// callers give it its own deadline rather than their shutdown's.
func (m *Modem) SendPDU(ctx context.Context, p sms.SubmitPart) (mr int, err error) {
	lines, err := m.eng.SendData(ctx, "AT+CMGS="+strconv.Itoa(p.TPDULen), p.PDU)
	if err != nil {
		return -1, err
	}
	for _, l := range lines {
		if mr, err := atcmd.ParseCMGS(l); err == nil {
			return mr, nil
		}
	}
	return -1, nil
}
