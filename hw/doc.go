// Package hw is gsmbridge's contact with the hardware: it opens serial ports,
// finds USB modems in sysfs, names the processes that hold a port and raises
// the open-files limit. What is said over a port (identity included) is
// package gsm's.
//
// Everything that touches the machine takes its roots (sysfs, /dev, /proc) as
// arguments so tests run against trees they build.
package hw
