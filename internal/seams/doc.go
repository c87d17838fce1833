// Package seams holds no code: its test keeps the layout of
// docs/restructure-plan.md (§1.2). It reads `go list` and the sources and
// fails when a package imports across a seam (features importing each other,
// infrastructure or public packages importing features or internal code,
// atcmd or NATS used outside their owners), when AT dialogue is written
// above the layers that own it, when a type has more than 25 methods, or
// when a file grows over 400 lines.
//
// ratchet.txt lists the violations that existed when the test was written.
// The test fails on a violation not listed, and on a listed one that is gone,
// so the list only shrinks: fix a new violation rather than listing it, and
// delete the line of one you removed.
package seams
