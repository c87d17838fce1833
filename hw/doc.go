// Package hw is gsmbridge's contact with the hardware: it opens serial ports,
// finds USB modems in sysfs, names the processes that hold a port, and reads
// a modem's identity (maker, IMEI, SIM) through an AT command seam.
//
// Everything that touches the machine takes its roots (sysfs, /dev, /proc) as
// arguments so tests run against trees they build; the parsers are pure
// functions of the modem's lines.
package hw
