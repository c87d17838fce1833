// Package sms turns text into SMS-SUBMIT PDUs and PDUs read from a modem into
// messages, status reports and phone numbers the rest of gsmbridge can use.
//
// It is pure code with no I/O and no shared state: every function is safe for
// concurrent use. The bit-level work (7-bit packing, semi-octets, UCS2, TPDU
// fields) is done by github.com/warthog618/sms; this package adds what a
// payment-confirmation gateway needs on top: Russian number rules, part
// planning that agrees exactly with the encoder, caller-owned concatenation
// references, strict checks of what was sent, and tolerant decoding of what
// was received.
//
// Phone numbers and message texts are personal data: errors from this
// package never contain them; use MaskNumber before logging a number.
package sms
