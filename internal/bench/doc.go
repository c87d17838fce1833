// Package bench measures gsmbridge under load: simulated modems (modemsim)
// in this process, the daemon as a child process so that its CPU time and
// memory are its own, HTTP clients posting messages through package client,
// and optionally a pty between the daemon and each modem that counts AT
// commands and busy time on the wire. `gsmbridge bench` is its command; the
// end-to-end tests that need the real binary start it with StartDaemon.
//
// It drives the daemon from outside, through public packages only.
package bench
