// Package gsm is the modem dialogue over the AT engine: the one place AT
// command lines are built and answers read, so that the packages above it
// deal in identities, stored messages, typed events, replies and errors,
// never in "+CMTI:" lines. It decides nothing for the service (when to
// enter a PIN, when to sweep storage, when to give up on a modem):
// policies stay with the modem's owner.
//
// It imports atcmd, sms and ussd, never hw or the service: opening the
// port is its caller's business.
// README.md is the spec: what it owns, the per-vendor table, the errors.
package gsm
