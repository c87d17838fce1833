package main

// clientVerbs talk to a running daemon over its HTTP API.
func clientVerbs() map[string]verb {
	return map[string]verb{}
}
