// Package fleet joins a gsmbridge host to others through a NATS JetStream
// cluster, so that many hosts serve the payment core as one service
// (docs/fleet-plan.md): shared work, claims that let exactly one host send
// a message, heartbeats, and one event stream.
//
// It is the only package that imports NATS. Without a fleet section in the
// configuration nothing here runs and a host needs nothing but SQLite.
package fleet
