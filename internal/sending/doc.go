// Package sending sends the queued messages: the Scheduler that hands them
// to modem lanes within each SIM's send limits, and what holds a message
// that waits. README.md is its spec.
package sending
