// Package sending sends the queued messages: /v1/messages and /v1/sims, the
// Scheduler that hands messages to modem lanes within each SIM's send
// limits, what holds a message that waits, and the Work modem owners take:
// the send job and suspect SIMs. README.md is its spec.
package sending
