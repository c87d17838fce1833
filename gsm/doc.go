// Package gsm is the modem dialogue over the AT engine: it builds every AT
// command line the service sends and reads every answer, so that the
// packages above it deal in identities, replies and errors, never in
// "+CUSD:" lines. It decides nothing for the service (when to enter a PIN,
// when to give up on a modem): policies stay with the modem's owner.
//
// It imports atcmd, sms and ussd only; hw's port is its caller's business.
// README.md is the spec: what it owns, the per-vendor table, the errors.
package gsm
