package api

import "time"

// Host is one host of a fleet as GET /v1/hosts shows it: alive while its
// heartbeat lives, and the unfinished work the fleet's claims say it holds.
type Host struct {
	Host     string    `json:"host"`
	Alive    bool      `json:"alive"`
	Started  time.Time `json:"started,omitzero"`
	LastBeat time.Time `json:"last_beat,omitzero"`
	Taken    int       `json:"taken"`    // stored there, no part begun: releasable once it is dead
	Sending  int       `json:"sending"`  // a part may have reached a modem: only that host can tell
	Released int       `json:"released"` // handed back, not yet taken by another host
	// State is what the host told the fleet in its last heartbeat; a dead
	// host's is as it last described itself.
	State *HostState `json:"state,omitempty"`
}

// HostList is GET /v1/hosts.
type HostList struct {
	Hosts []Host `json:"hosts"`
}

// HostState is what a host's heartbeat carries for the fleet's listings:
// its modems and SIMs as its own GET /v1/modems and /v1/sims show them.
type HostState struct {
	Modems []Modem `json:"modems"`
	SIMs   []SIM   `json:"sims"`
}
