// Package api is gsmbridge's HTTP API contract: the request and response
// bodies, event payloads and state names the daemon serves and its clients
// (the CLI, the benchmark, a payment core written in Go) decode.
//
// The types carry the JSON encoding the API document (/v1/openapi.json,
// merged from each feature's fragment) describes; changing a tag here
// changes the wire format. The package imports only the standard library,
// so any program can depend on it without pulling in the daemon.
package api
