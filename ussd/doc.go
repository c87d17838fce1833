// Package ussd holds the pure pieces of USSD handling: what a caller may send,
// how a request is encoded for each modem dialect, how a +CUSD reply is
// decoded, which codes each Russian operator uses, and how a balance is read
// out of a reply. Nothing here does I/O; the daemon drives the modem.
//
// USSD replies are where modem software most often shows garbage, so decoding
// prefers the interpretation that yields readable text over the one the
// modem's data coding scheme claims, and balance parsing answers "not parsed"
// rather than guess.
package ussd
