//go:build !fleetdemo

package main

import "errors"

// errNoEmbeddedNATS: the production binary carries no NATS server; a fleet
// points at a real cluster, and a single host needs none.
var errNoEmbeddedNATS = errors.New("this gsmbridge carries no NATS server (only a build with -tags fleetdemo does): " +
	"give --nats with the URLs of a running JetStream cluster, or run the demo build: go run -tags fleetdemo ./cmd/gsmbridge ...")

func startEmbeddedNATS(dir string, n int) (urls []string, stop func(), err error) {
	return nil, nil, errNoEmbeddedNATS
}
