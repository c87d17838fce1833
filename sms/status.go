package sms

import (
	"fmt"
	"time"

	"github.com/warthog618/sms/encoding/tpdu"
)

// StatusReport is an SMS-STATUS-REPORT: what the network says became of a
// message sent with SubmitOptions.StatusReport.
type StatusReport struct {
	SMSC string // "" when the modem gave no SMSC part
	// MR is the TP-MR of the message reported on, as "+CMGS: <mr>" gave it.
	MR        byte
	Recipient string    // rendered like Deliver.From
	SCTS      time.Time // when the service centre received the original
	Discharge time.Time // when it was delivered, or the last attempt failed
	Status    byte      // TP-ST
}

// ReportOutcome is what a TP-ST value means for the sender.
type ReportOutcome int

// Outcomes by TP-ST range (TS 23.040 §9.2.3.15).
const (
	// Delivered: 0x00-0x1F, the transaction completed.
	Delivered ReportOutcome = iota
	// Pending: 0x20-0x3F, a temporary error and the service centre is still
	// trying; another report follows.
	Pending
	// Failed: 0x40 and up, a permanent error (0x40-0x5F), a temporary error
	// the service centre gave up on (0x60-0x7F), or a reserved value.
	Failed
)

func (o ReportOutcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Pending:
		return "pending"
	}
	return "failed"
}

// Outcome classifies the report's status.
func (r StatusReport) Outcome() ReportOutcome {
	switch {
	case r.Status < 0x20:
		return Delivered
	case r.Status < 0x40:
		return Pending
	}
	return Failed
}

// statusMeanings holds the TP-ST values TS 23.040 §9.2.3.15 names.
var statusMeanings = map[byte]string{
	0x00: "received by the recipient",
	0x01: "forwarded to the recipient, delivery not confirmed",
	0x02: "replaced by the service centre",
	0x20: "congestion, still trying",
	0x21: "recipient busy, still trying",
	0x22: "no response from recipient, still trying",
	0x23: "service rejected, still trying",
	0x24: "quality of service not available, still trying",
	0x25: "error in recipient, still trying",
	0x40: "remote procedure error",
	0x41: "incompatible destination",
	0x42: "connection rejected by recipient",
	0x43: "not obtainable",
	0x44: "quality of service not available",
	0x45: "no interworking available",
	0x46: "validity period expired",
	0x47: "deleted by the sender",
	0x48: "deleted by service centre administration",
	0x49: "message does not exist",
	0x60: "congestion, gave up",
	0x61: "recipient busy, gave up",
	0x62: "no response from recipient, gave up",
	0x63: "service rejected, gave up",
	0x64: "quality of service not available, gave up",
	0x65: "error in recipient, gave up",
}

// Meaning describes the status in words, for logs and operators.
func (r StatusReport) Meaning() string {
	if m, ok := statusMeanings[r.Status]; ok {
		return m
	}
	s := r.Status
	switch {
	case s >= 0x10 && s <= 0x1f:
		return fmt.Sprintf("completed (service-centre specific 0x%02X)", s)
	case s >= 0x30 && s <= 0x3f:
		return fmt.Sprintf("temporary error, still trying (service-centre specific 0x%02X)", s)
	case s >= 0x50 && s <= 0x5f:
		return fmt.Sprintf("permanent error (service-centre specific 0x%02X)", s)
	case s >= 0x70 && s <= 0x7f:
		return fmt.Sprintf("temporary error, gave up (service-centre specific 0x%02X)", s)
	}
	return fmt.Sprintf("reserved status 0x%02X", s)
}

// DecodeStatusReport decodes an SMS-STATUS-REPORT as a modem gives it (+CDS,
// or +CMGR after +CDSI), SMSC address included. Some modems send +CDS
// without the SMSC part; when the PDU does not read as a status report with
// one, it is read again as a bare TPDU. Optional fields after TP-ST that do
// not parse are ignored, since the outcome is complete without them.
func DecodeStatusReport(pduHex string) (*StatusReport, error) {
	smsc, tp, err := splitPDU(pduHex)
	if err == nil {
		r, rerr := decodeStatusReportTPDU(smsc, tp)
		if rerr == nil {
			return r, nil
		}
		err = rerr
	}
	if raw, herr := decodeHex(pduHex); herr == nil {
		if r, rerr := decodeStatusReportTPDU("", raw); rerr == nil {
			return r, nil
		}
	}
	return nil, err
}

func decodeStatusReportTPDU(smsc string, tp []byte) (*StatusReport, error) {
	if mti := tp[0] & 0x03; mti != mtiStatusReport {
		return nil, fmt.Errorf("sms: %w: %s, not SMS-STATUS-REPORT", ErrWrongType, mtiName(mti))
	}
	var t tpdu.TPDU
	if err := t.UnmarshalBinary(tp); err != nil {
		n := statusReportMandatoryLen(tp)
		if n == 0 || n >= len(tp) {
			return nil, fmt.Errorf("sms: %w: %w", ErrMalformedPDU, err)
		}
		t = tpdu.TPDU{}
		if err := t.UnmarshalBinary(tp[:n]); err != nil {
			return nil, fmt.Errorf("sms: %w: %w", ErrMalformedPDU, err)
		}
	}
	r := &StatusReport{
		SMSC:      smsc,
		MR:        t.MR,
		SCTS:      t.SCTS.Time,
		Discharge: t.DT.Time,
		Status:    t.ST,
	}
	r.Recipient, _ = addressText(t.RA)
	return r, nil
}

// statusReportMandatoryLen is the length of first octet, TP-MR, TP-RA,
// TP-SCTS, TP-DT and TP-ST, or 0 when tp is too short to tell.
func statusReportMandatoryLen(tp []byte) int {
	if len(tp) < 3 {
		return 0
	}
	const timestamps = 14
	return 2 + 2 + (int(tp[2])+1)/2 + timestamps + 1
}
