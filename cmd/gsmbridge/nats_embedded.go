//go:build fleetdemo

package main

import "github.com/gsmbridge/gsmbridge/internal/fleet/fleetdemo"

// startEmbeddedNATS runs an n-node JetStream cluster in this process with
// its storage under dir. Only a binary built with the fleetdemo tag carries
// the server (docs/fleet.md, "The demo and the bench").
func startEmbeddedNATS(dir string, n int) (urls []string, stop func(), err error) {
	c, err := fleetdemo.Start(dir, n)
	if err != nil {
		return nil, nil, err
	}
	return c.URLs(), c.Close, nil
}
