// Package payment holds the rules of payment confirmations without any I/O:
// which state may follow which, what a customer's reply says and which
// confirmation it may answer, what happens at a deadline, the SMS text and
// its checks, the idempotency fingerprint, operator commissions and payment
// limits.
//
// It has no SQL and no clock of its own: the store calls it inside the
// transaction that changes a confirmation, so a decision and its write stay
// atomic, and every time it judges is passed in. README.md is its spec.
package payment
