package receiving

import (
	"context"
	"strconv"
)

// pduLeft is the payload of the modem.sms_undecodable event: which slot of
// which modem holds a PDU gsmbridge could not decode on two reads, and why.
// Never the PDU itself: it carries a phone number and a text.
type pduLeft struct {
	Modem  string `json:"modem"`
	ICCID  string `json:"iccid,omitempty"`
	Index  int    `json:"index"`
	Chars  int    `json:"pdu_chars"`
	Reason string `json:"reason"`
}

// leftPDUs remembers the undecodable PDUs already reported, so that one
// left in storage raises its event and counts once, not at every sweep.
// Only touched from the modem's owner goroutine.
type leftPDUs map[string]struct{}

// maxLeftPDUs bounds the memory; storage holds a few dozen messages, so
// forgetting everything past it at worst reports a PDU once more.
const maxLeftPDUs = 256

// first reports whether the PDU in slot idx is new to the set, and adds it.
func (l *leftPDUs) first(idx int, pdu string) bool {
	if *l == nil || len(*l) >= maxLeftPDUs {
		*l = leftPDUs{}
	}
	key := strconv.Itoa(idx) + ":" + pdu
	if _, seen := (*l)[key]; seen {
		return false
	}
	(*l)[key] = struct{}{}
	return true
}

// Left notes a PDU left in slot idx of the modem's storage because two
// reads could not decode it, and tells operations: an event and a counter,
// once per PDU. A reply in it is not lost (the modem keeps it) but waits
// for a person.
func (r *Receiving) Left(ctx context.Context, src Source, idx int, pdu string, cause error) {
	log := r.logOf(src)
	if !r.of(src.Modem).undecoded.first(idx, pdu) {
		log.Debug("an undecodable PDU reported before is still in the modem's storage", "index", idx)
		return
	}
	log.Warn("left an undecodable PDU in the modem's storage after reading it twice", "index", idx, "err", cause)
	r.metrics.undecodablePDU(src.Modem)
	ev := pduLeft{Modem: src.Modem, ICCID: src.ICCID, Index: idx, Chars: len(pdu), Reason: cause.Error()}
	if err := r.devices.ModemEvent(context.WithoutCancel(ctx), src.Modem, "modem.sms_undecodable", ev); err != nil {
		log.Error("record modem event", "event", "modem.sms_undecodable", "err", err)
	}
}
