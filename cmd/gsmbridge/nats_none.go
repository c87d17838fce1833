//go:build !fleetdemo

package main

import "errors"

// errNoEmbeddedNATS: the production binary carries no NATS server; a fleet
// points at a real cluster, and a single host needs none.
var errNoEmbeddedNATS = errors.New("this gsmbridge carries no NATS server; a build with -tags fleetdemo does " +
	"(go run -tags fleetdemo ./cmd/gsmbridge ...)")

func startEmbeddedNATS(dir string, n int) (urls []string, stop func(), err error) {
	return nil, nil, errNoEmbeddedNATS
}
