// Package modem runs the modem owners: one goroutine per serial port that
// opens it, sets the modem up, serves its lane of send work and hands on
// what it receives, and walks up the escalation steps when the modem stops
// answering; USB hotplug; GET /v1/modems. README.md is its spec.
package modem
